"""A small catalog in a real temporary git repository, with real commits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from spo_gitops.git import no_git_env

PARTIES = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team, handle: "@acme/team-a"}
---
apiVersion: spo/v1
kind: Party
metadata: {name: team-b, version: 1.0.0}
spec: {type: team, handle: "@acme/team-b"}
---
apiVersion: spo/v1
kind: Party
metadata: {name: retail, version: 1.0.0}
spec: {type: customer}
"""


def service(name: str, version: str = "1.0.0", depends: tuple[str, ...] = ()) -> str:
    deps = f"\n  dependsOn: [{', '.join(depends)}]" if depends else ""
    return f"""\
apiVersion: spo/v1
kind: ServiceModel
metadata:
  name: {name}
  version: {version}  # keep in step with spec
  owner: team-a
spec:
  type: business
  tier: 2
  outcomes:
    - {{name: Customers pay online, measure: payments per day}}
  capabilities: [payments, statements]{deps}
"""


def entry(name: str, stage: str, version: str = "1.0.0", approvals: tuple[str, ...] = ()) -> str:
    recs = "".join(
        f"\n    - {{stage: {s}, approver: team-a, date: 2026-01-0{i + 1}, reference: B-{i}}}"
        for i, s in enumerate(approvals)
    )
    return f"""\
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: {version}, owner: team-a}}
spec:
  service: {name}
  stage: {stage}
  approvals:{recs or " []"}
"""


def sla(name: str, service: str, target: float = 99.9, version: str = "1.0.0") -> str:
    return f"""\
apiVersion: spo/v1
kind: ServiceLevelAgreement
metadata: {{name: {name}, version: {version}, owner: team-a}}
spec:
  service: {service}
  customer: retail
  status: active
  validity: {{start: 2026-01-01, end: 2026-12-31}}
  window: {{hours: 24x7}}
  objectives:
    - {{metric: availability, target: {target}, unit: percent}}
    - {{metric: mttr, priority: P1, target: 4, unit: h}}
"""


ALL_STAGES_TO_LIVE = ("approved", "chartered", "designed", "transitioning", "live")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, env=no_git_env(), check=True, capture_output=True, text=True
    ).stdout


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def init_repo(root: Path) -> None:
    """``git init`` on branch main, with a committer and no signing."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "commit.gpgsign", "false")


def reference_repo(root: Path) -> Path:
    """This project's reference catalog (catalog/, policies/, spo.yaml), committed on main."""
    repo = Path(__file__).resolve().parent.parent
    for name in ("catalog", "policies"):
        shutil.copytree(repo / name, root / name)
    shutil.copy(repo / "spo.yaml", root / "spo.yaml")
    init_repo(root)
    commit(root, "reference catalog")
    return root


def make_repo(root: Path) -> Path:
    """A committed catalog on branch main: payments (live) used by banking (live)."""
    init_repo(root)
    write(
        root,
        {
            # a fixed validation date: the SLA's validity (2026) never nears its end in a test
            "spo.yaml": "apiVersion: spo/v1\nkind: Project\ncatalog: {paths: [catalog]}\n"
            "validation: {date: 2026-06-01}\n",
            "catalog/parties.yaml": PARTIES,
            "catalog/services/payments.yaml": service("payments"),
            "catalog/services/banking.yaml": service("banking", depends=("payments",)),
            "catalog/portfolio/payments.yaml": entry(
                "payments", "live", approvals=ALL_STAGES_TO_LIVE
            ),
            "catalog/portfolio/banking.yaml": entry(
                "banking", "live", approvals=ALL_STAGES_TO_LIVE
            ),
            "catalog/slas/payments-retail.yaml": sla("payments-retail", "payments"),
        },
    )
    commit(root, "catalog")
    return root
