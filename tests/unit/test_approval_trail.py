"""The approval trail as evidence: every reached stage approved, in order, none in the future."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.review.compare import compare
from tests.gitrepo import commit, entry, make_repo, write

PARTIES = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec: {type: business, tier: 2, outcomes: [{name: Customers pay}]}
---
"""
DAY = dt.date(2026, 12, 1)


def run(
    tmp_path: Path, stage: str, approvals: list[tuple[str, str]], config: str = ""
) -> list[tuple[str, int, str]]:
    records = "".join(f"\n    - {{stage: {s}, approver: team-a, date: {d}}}" for s, d in approvals)
    text = (
        PARTIES
        + "apiVersion: spo/v1\nkind: PortfolioEntry\n"
        + "metadata: {name: pay, version: 1.0.0, owner: team-a}\n"
        + f"spec:\n  service: pay\n  stage: {stage}\n  approvals:{records or ' []'}\n"
    )
    (tmp_path / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n" + config, "utf-8")
    (tmp_path / "catalog").mkdir(exist_ok=True)
    (tmp_path / "catalog" / "all.yaml").write_text(text, encoding="utf-8")
    result = validate(load_project(tmp_path), today=DAY)
    return [(d.code, d.line or 0, d.message) for d in result.findings.items]


FULL = [
    ("approved", "2026-01-10"),
    ("chartered", "2026-02-10"),
    ("designed", "2026-03-10"),
    ("transitioning", "2026-04-10"),
    ("live", "2026-05-10"),
]


def test_a_complete_trail_in_order_is_clean(tmp_path: Path) -> None:
    assert run(tmp_path, "live", FULL) == []
    assert run(tmp_path, "defined", []) == []  # nothing that needs an approval reached yet


def test_every_reached_stage_needs_its_record(tmp_path: Path) -> None:
    # a live service whose chartered, designed, transitioning and live approvals were deleted
    (found,) = run(tmp_path, "live", FULL[:1])
    assert found[0] == "SPO416"
    assert found[2] == (
        "pay is live but the approval record of chartered, designed, transitioning, live is missing"
    )
    (found,) = run(tmp_path, "chartered", [])
    assert found[2] == "pay is chartered but the approval record of approved, chartered is missing"


def test_which_stages_need_one_is_configurable(tmp_path: Path) -> None:
    config = "lifecycle: {approvalRequired: [approved]}\n"
    assert run(tmp_path, "live", FULL[:1], config) == []


def test_a_retired_service_is_not_asked_for_the_stages_it_may_have_skipped(
    tmp_path: Path,
) -> None:
    assert run(tmp_path, "retired", []) == []


def test_approvals_are_dated_in_stage_order(tmp_path: Path) -> None:
    # designed approved on 2026-02-01, before chartered (2026-02-10): the record at line 20
    trail = [*FULL[:2], ("designed", "2026-02-01"), *FULL[3:]]
    assert run(tmp_path, "live", trail) == [
        ("SPO417", 20, "designed was approved on 2026-02-01, before chartered (2026-02-10)")
    ]


def test_an_approval_cannot_be_dated_after_the_validation_date(tmp_path: Path) -> None:
    trail = [*FULL[:4], ("live", "2026-12-02")]
    assert run(tmp_path, "live", trail) == [
        ("SPO418", 22, "approval of live is dated 2026-12-02, after 2026-12-01")
    ]
    assert run(tmp_path, "live", [*FULL[:4], ("live", "2026-12-01")]) == []


def test_removing_a_reached_stages_approval_is_breaking(in_tmp: Path) -> None:
    repo = make_repo(in_tmp)
    # payments is live at the base with approvals of approved .. live; a patch bump deletes four
    write(
        repo, {"catalog/portfolio/payments.yaml": entry("payments", "live", "1.0.1", ("approved",))}
    )
    head = commit(repo, "drop approvals")
    findings = compare(load_project(repo), "main~1", head).findings.items
    (breaking,) = [d for d in findings if d.code == "SPO603"]
    assert "approval of chartered removed" in breaking.message
    assert "approval of live removed" in breaking.message
    # and the snapshot itself is refused by validate
    codes = [d.code for d in validate(load_project(repo), today=DAY).findings.items]
    assert "SPO416" in codes
