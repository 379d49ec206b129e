"""Who approved: a board or team of the catalog, or a member of one (SPO425, SPO426)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.review.compare import compare
from spo_gitops.site import SiteInput, build_site
from tests.gitrepo import commit, entry, make_repo, write

# Line numbers below are counted by hand in this text: the records of the entry are lines 33-37.
CATALOG = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team, members: [ana.silva]}
---
apiVersion: spo/v1
kind: Party
metadata: {name: change-board, version: 1.0.0, owner: team-a, title: Change Board}
spec: {type: board, members: [lucy.harper, team-b]}
---
apiVersion: spo/v1
kind: Party
metadata: {name: cloudco, version: 1.0.0, owner: team-a}
spec: {type: supplier, members: [james.thornton, ana.silva]}
---
apiVersion: spo/v1
kind: Party
metadata: {name: retail, version: 1.0.0, owner: team-a}
spec: {type: customer}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec: {type: business, tier: 2, outcomes: [{name: Customers pay}]}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec:
  service: pay
  stage: live
  approvals:
"""
STAGES = ("approved", "chartered", "designed", "transitioning", "live")
DAY = dt.date(2026, 12, 1)


def run(tmp_path: Path, *approvers: str, extra: str = "") -> list[tuple[str, int, int, str, str]]:
    """Validate the catalog with the live entry's five records approved by ``approvers``."""
    records = "".join(
        f"    - {{stage: {s}, approver: {a}, date: 2026-0{i + 1}-10}}\n"
        for i, (s, a) in enumerate(zip(STAGES, approvers, strict=True))
    )
    (tmp_path / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n", "utf-8")
    (tmp_path / "catalog").mkdir(exist_ok=True)
    (tmp_path / "catalog" / "all.yaml").write_text(CATALOG + records + extra, encoding="utf-8")
    result = validate(load_project(tmp_path), today=DAY)
    return [
        (d.code, d.line or 0, d.column or 0, d.message, d.hint or "") for d in result.findings.items
    ]


def test_a_board_a_team_and_their_members_approve(tmp_path: Path) -> None:
    # the board, the board's member, the team, the team's member (also listed by a supplier:
    # a member of a team is enough), and team-b, which the board lists (no Party of its own)
    assert run(tmp_path, "change-board", "lucy.harper", "team-a", "ana.silva", "team-b") == []


def test_an_approver_nobody_in_the_catalog_is_is_reported_at_its_value(tmp_path: Path) -> None:
    found = run(tmp_path, "Change Board", "lucy.harpr", "Q", "team-a", "team-a")
    # "    - {stage: approved, approver: " is 34 characters: the value starts in column 35;
    # "chartered, " is one longer than "approved, ", "designed, " as long
    assert found == [
        (
            "SPO425",
            33,
            35,
            "approval of approved: approver 'Change Board' is not a Party or a member of one",
            "did you mean change-board? An approver is a Party's name or a member's handle",
        ),
        (
            "SPO425",
            34,
            36,
            "approval of chartered: approver 'lucy.harpr' is not a Party or a member of one",
            "did you mean lucy.harper? An approver is a Party's name or a member's handle",
        ),
        (
            "SPO425",
            35,
            35,
            "approval of designed: approver 'Q' is not a Party or a member of one",
            "add a Party of type board or use a party's member",
        ),
    ]


def test_a_supplier_or_customer_is_not_the_organisations_decision(tmp_path: Path) -> None:
    found = run(tmp_path, "cloudco", "retail", "james.thornton", "ana.silva", "change-board")
    assert [f[:4] for f in found] == [
        (
            "SPO426",
            33,
            35,
            "approval of approved: approver cloudco is a supplier, not a board or team of the "
            "organisation",
        ),
        (
            "SPO426",
            34,
            36,
            "approval of chartered: approver retail is a customer, not a board or team of the "
            "organisation",
        ),
        (
            "SPO426",
            35,
            35,
            "approval of designed: approver james.thornton is a member of cloudco (supplier) "
            "only, not a board or team of the organisation",
        ),
    ]


def test_an_invalid_party_is_reported_once_in_its_own_file(tmp_path: Path) -> None:
    broken = (
        "---\napiVersion: spo/v1\nkind: Party\n"
        "metadata: {name: old-board, version: 1.0.0, owner: team-a}\n"
        "spec: {type: committee}\n"
    )
    found = run(tmp_path, "old-board", "team-a", "team-a", "team-a", "team-a", extra=broken)
    assert [f[0] for f in found] == ["SPO204"]  # its type; the approval naming it is not reported


def test_renaming_the_approver_of_a_reached_stage_keeps_its_record(in_tmp: Path) -> None:
    repo = make_repo(in_tmp)
    stages = ("approved", "chartered", "designed", "transitioning", "live")
    renamed = entry("payments", "live", "1.0.1", stages).replace(
        "{stage: designed, approver: team-a,", "{stage: designed, approver: team-b,"
    )
    assert "approver: team-b" in renamed
    write(repo, {"catalog/portfolio/payments.yaml": renamed})
    head = commit(repo, "the designed stage was approved by team-b")
    findings = compare(load_project(repo), "main~1", head).findings.items
    assert [d.code for d in findings if d.severity == "error"] == []  # a patch bump will do
    # the same change without a bump is only a missing bump, not a removed approval
    write(repo, {"catalog/portfolio/payments.yaml": renamed.replace("1.0.1", "1.0.0")})
    head = commit(repo, "no bump")
    findings = compare(load_project(repo), "main~2", head).findings.items
    assert [d.code for d in findings if d.severity == "error"] == ["SPO601"]


def test_a_boards_page_lists_the_approvals_it_and_its_members_gave(tmp_path: Path) -> None:
    run(tmp_path, "team-a", "change-board", "lucy.harper", "ana.silva", "team-b")
    result = validate(load_project(tmp_path), today=DAY)
    pages = build_site(SiteInput(result.index, use_dot=False))
    board = pages["parties/change-board.html"]
    rows = board.split('<table id="approvals">')[1].split("</table>")[0].count("<tr><td>")
    # chartered by the board, designed by its member lucy.harper, live by team-b, which it lists
    assert rows == 3
    for stage, who in (("chartered", "change-board"), ("designed", "lucy.harper")):
        assert f"<td>{stage}</td><td>{who}</td>" in board
    assert "<td>live</td><td>team-b</td>" in board
    assert "<td>approved</td>" not in board  # team-a's, shown on team-a's page
    assert "<td>approved</td><td>team-a</td>" in pages["parties/team-a.html"]
