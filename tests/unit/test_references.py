"""Cross-document checks: duplicates, references, cycles."""

from __future__ import annotations

from pathlib import Path

from spo_gitops.catalog.references import find_cycles
from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project

TEAM = """apiVersion: spo/v1
kind: Party
metadata:
  name: team-x
  version: 1.0.0
spec:
  type: team
"""


def service(name: str, deps: list[str]) -> str:
    return f"""apiVersion: spo/v1
kind: ServiceModel
metadata:
  name: {name}
  version: 1.0.0
  owner: team-x
spec:
  type: technical
  tier: 3
  outcomes: [{{name: works}}]
  dependsOn: [{", ".join(deps)}]
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: 1.0.0, owner: team-x}}
spec: {{service: {name}, stage: proposed}}
"""


def findings(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str, int, str]]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = validate(load_project(tmp_path), [tmp_path])
    return [(d.code, d.file or "", d.line or 0, d.message) for d in result.findings.items]


def test_duplicate_names_point_at_both_names(tmp_path: Path) -> None:
    found = findings(tmp_path, {"a.yaml": "# comment\n" + TEAM, "b.yaml": TEAM})
    assert found == [
        ("SPO301", "b.yaml", 4, "Party 'team-x' is already defined at a.yaml:5"),
    ]


def test_a_service_depending_on_itself_is_a_cycle(tmp_path: Path) -> None:
    found = findings(tmp_path, {"t.yaml": TEAM, "s.yaml": service("loop", ["loop"])})
    assert [(c, m) for c, _, _, m in found] == [("SPO304", "dependency cycle: loop -> loop")]


def test_a_cycle_is_reported_once_with_its_whole_path(tmp_path: Path) -> None:
    files = {
        "t.yaml": TEAM,
        "a.yaml": service("svc-a", ["svc-b"]),
        "b.yaml": service("svc-b", ["svc-c"]),
        "c.yaml": service("svc-c", ["svc-a"]),
    }
    found = findings(tmp_path, files)
    assert [(c, f, m) for c, f, _, m in found] == [
        ("SPO304", "a.yaml", "dependency cycle: svc-a -> svc-b -> svc-c -> svc-a"),
    ]


def test_an_entry_named_like_its_missing_service_is_an_unresolved_reference(
    tmp_path: Path,
) -> None:
    entry = (
        "apiVersion: spo/v1\nkind: PortfolioEntry\n"
        "metadata: {name: ghost, version: 1.0.0, owner: team-x}\n"
        "spec: {service: ghost, stage: proposed}\n"
    )
    found = findings(tmp_path, {"t.yaml": TEAM, "e.yaml": entry})
    assert [(c, f, line) for c, f, line, _ in found] == [("SPO302", "e.yaml", 4)]


def test_long_dependency_chains_do_not_hit_the_recursion_limit() -> None:
    graph = {f"s{i}": [f"s{i + 1}"] for i in range(20_000)}
    graph["s20000"] = ["s0"]
    cycles = find_cycles(graph)
    assert len(cycles) == 1
    assert len(cycles[0]) == 20_001
