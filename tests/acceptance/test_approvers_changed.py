"""Changed-only validation follows a Party change to the approvals that name it or its members."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import commit, entry, make_repo, write
from tests.helpers import run_spo

STAGES = ("approved", "chartered", "designed", "transitioning", "live")

BOARD = """\
apiVersion: spo/v1
kind: Party
metadata: {name: cab, version: 1.0.0, owner: team-a}
spec: {type: board, members: [lucy.harper, omar.haddad]}
"""


def _entry_by(name: str, approver: str) -> str:
    # the approver of the live record is on line 12 (the five records are lines 8-12)
    return entry(name, "live", "1.0.0", STAGES).replace(
        "{stage: live, approver: team-a,", f"{{stage: live, approver: {approver},"
    )


def test_a_member_leaving_a_board_is_found_changed_only_in_the_entries_they_approved(
    in_tmp: Path,
) -> None:
    repo = make_repo(in_tmp)
    write(
        repo,
        {
            "catalog/parties/cab.yaml": BOARD,
            "catalog/portfolio/payments.yaml": _entry_by("payments", "lucy.harper"),
            "catalog/portfolio/banking.yaml": _entry_by("banking", "omar.haddad"),
        },
    )
    commit(repo, "the CAB and its members' approvals")
    assert "approver: lucy.harper, date" in (repo / "catalog/portfolio/payments.yaml").read_text()
    write(repo, {"catalog/parties/cab.yaml": BOARD.replace("lucy.harper, ", "")})
    result = run_spo("validate", "--changed-since", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["file"], f["line"]) for f in findings] == [
        ("SPO425", "catalog/portfolio/payments.yaml", 12)
    ]
    assert findings[0]["message"] == (
        "approval of live: approver 'lucy.harper' is not a Party or a member of one"
    )
    # the board goes: omar.haddad's approval of banking is not evidence any more either
    (repo / "catalog/parties/cab.yaml").unlink()
    result = run_spo("validate", "--changed-since", "HEAD", "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    assert sorted((f["code"], f["file"], f["line"]) for f in findings) == [
        ("SPO425", "catalog/portfolio/banking.yaml", 12),
        ("SPO425", "catalog/portfolio/payments.yaml", 12),
    ]
