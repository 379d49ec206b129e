"""The roles of an SPI's processes: owner, managers, practitioners (SPO422-SPO424).

Every line and column below is counted by hand in the catalog text of this file; the rule is
restated here as ITIL puts it: the process owner is the Accountable wherever the process has one
(the owner itself, or a Party the owner is a member of), and every role holder is a Party or a
member a Party lists.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.site import SiteInput, build_site
from tests.conftest import REPO
from tests.gitrepo import commit, init_repo, reference_repo, write
from tests.helpers import run_spo

TEAM_A = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team, members: [alice, team-c]}
"""
TEAM_B = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-b, version: 1.0.0}
spec: {type: team, members: [bob]}
"""
REST = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-c, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: Party
metadata: {name: cloudco, version: 1.0.0}
spec: {type: supplier}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: hosting, version: 1.0.0, owner: team-a}
spec: {type: business, tier: 2, outcomes: [{name: Servers run}]}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: hosting, version: 1.0.0, owner: team-a}
spec: {service: hosting, stage: proposed}
"""
# line 1 of its own file; the process starts on line 9, its owner on 10, the RACI on 15
SPI = """\
apiVersion: spo/v1
kind: ServiceProviderInterface
metadata: {name: cloud, version: 1.0.0, owner: team-a}
spec:
  provider: cloudco
  consumers: [team-a]
  services: [hosting]
  processes:
    - process: incident
      owner: %(owner)s
      managers: %(managers)s
      practitioners: %(practitioners)s
      activities:
        - activity: Restore servers
          raci: %(raci)s
"""
SUPPLIER_R = "{cloudco: R, team-a: A}"


def spi(
    owner: str = "alice",
    raci: str = SUPPLIER_R,
    managers: str = "[]",
    practitioners: str = "[]",
) -> str:
    return SPI % {
        "owner": owner,
        "raci": raci,
        "managers": managers,
        "practitioners": practitioners,
    }


def catalog(root: Path, spi_text: str) -> Path:
    write(
        root,
        {
            "spo.yaml": "catalog:\n  paths: [catalog]\n",
            "catalog/team-a.yaml": TEAM_A,
            "catalog/team-b.yaml": TEAM_B,
            "catalog/rest.yaml": REST,
            "catalog/spi.yaml": spi_text,
        },
    )
    return root


def errors(root: Path) -> list[tuple[str, str, int, int]]:
    found = validate(load_project(root)).findings.items
    return [
        (d.code, str(d.file), d.line or 0, d.column or 0) for d in found if d.severity == "error"
    ]


@pytest.mark.parametrize(
    "owner",
    [
        "team-a",  # the owner is the Accountable party itself
        "alice",  # a member of the Accountable party
        "team-c",  # a Party listed among the Accountable party's members
    ],
)
def test_the_owner_is_the_accountable_or_one_of_its_members(tmp_path: Path, owner: str) -> None:
    root = catalog(tmp_path, spi(owner, managers="[team-b, bob]", practitioners="[cloudco]"))
    assert errors(root) == []


def test_a_process_without_any_accountable_is_only_spo401(tmp_path: Path) -> None:
    root = catalog(tmp_path, spi("alice", "{cloudco: R, team-a: C}"))
    # the RACI mapping, line 15: its "{" follows "          raci: " (16 characters)
    assert errors(root) == [("SPO401", "catalog/spi.yaml", 15, 17)]


def test_an_accountable_the_owner_is_no_member_of_is_spo423(tmp_path: Path) -> None:
    root = catalog(tmp_path, spi("bob"))
    # "          raci: {cloudco: R, team-a: " is 37 characters: team-a's A is in column 38
    assert errors(root) == [("SPO423", "catalog/spi.yaml", 15, 38)]
    (d,) = [d for d in validate(load_project(root)).findings.items if d.code == "SPO423"]
    assert d.pointer == "/spec/processes/0/activities/0/raci/team-a"
    assert "'Restore servers'" in d.message and "team-a" in d.message and "bob" in d.message
    assert d.hint is not None and "give 'A' to team-b" in d.hint


def test_a_supplier_accountable_for_the_consumers_process_is_spo423(tmp_path: Path) -> None:
    root = catalog(tmp_path, spi("alice", "{cloudco: AR, team-a: I}"))
    # "          raci: {cloudco: " is 26 characters: cloudco's AR starts in column 27
    assert errors(root) == [("SPO423", "catalog/spi.yaml", 15, 27)]


def test_an_accountable_that_is_no_party_is_only_spo302(tmp_path: Path) -> None:
    root = catalog(tmp_path, spi("alice", "{cloudco: R, team-z: A}"))
    assert [e[0] for e in errors(root)] == ["SPO302"]


def test_an_unknown_owner_is_spo424_with_a_close_name_and_no_spo423(tmp_path: Path) -> None:
    root = catalog(tmp_path, spi("alicia"))
    # "      owner: " is 13 characters
    assert errors(root) == [("SPO424", "catalog/spi.yaml", 10, 14)]
    (d,) = [d for d in validate(load_project(root)).findings.items if d.code == "SPO424"]
    assert "owner 'alicia'" in d.message
    assert d.hint is not None and d.hint.startswith("did you mean alice?")


def test_an_unknown_manager_or_practitioner_is_spo424_at_its_place(tmp_path: Path) -> None:
    root = catalog(tmp_path, spi("alice", managers="[zed]", practitioners="[cloudco, carol]"))
    # "      managers: [" is 17 characters; "      practitioners: [cloudco, " 31
    assert errors(root) == [
        ("SPO424", "catalog/spi.yaml", 11, 18),
        ("SPO424", "catalog/spi.yaml", 12, 32),
    ]


def test_a_process_without_an_owner_is_spo422_at_the_process(tmp_path: Path) -> None:
    root = catalog(tmp_path, spi().replace("      owner: alice\n", ""))
    # "    - process: incident" on line 9: the process mapping starts after "    - "
    assert errors(root) == [("SPO422", "catalog/spi.yaml", 9, 7)]


# --- changed-only validation ---------------------------------------------------------------------


def test_a_member_leaving_a_party_the_spi_never_names_is_caught_changed_only(
    in_tmp: Path,
) -> None:
    # bob manages the process; his team-b appears nowhere in the SPI
    init_repo(in_tmp)
    catalog(in_tmp, spi("alice", managers="[bob]"))
    commit(in_tmp, "catalog")
    assert run_spo("validate", "--changed-since", "main").exit_code == 0
    (in_tmp / "catalog/team-b.yaml").write_text(TEAM_B.replace("[bob]", "[]"), encoding="utf-8")
    r = run_spo("validate", "--changed-since", "main", "--format", "json")
    assert r.exit_code == 1, r.stdout + r.stderr
    found = [(f["code"], f["file"], f["line"]) for f in json.loads(r.stdout)["findings"]]
    # "      managers: [bob]": line 11
    assert found == [("SPO424", "catalog/spi.yaml", 11)]
    assert errors(in_tmp) == [("SPO424", "catalog/spi.yaml", 11, 18)]  # as a full run finds


def test_an_owner_taken_off_the_accountable_team_is_caught_changed_only(in_tmp: Path) -> None:
    repo = reference_repo(in_tmp)
    team = repo / "catalog/parties/team-service-management.yaml"
    text = team.read_text(encoding="utf-8")
    assert text.count("    - daniel.okafor\n") == 1
    team.write_text(text.replace("    - daniel.okafor\n", ""), encoding="utf-8")
    r = run_spo("validate", "--changed-since", "main", "--format", "json")
    assert r.exit_code == 1, r.stdout + r.stderr
    found = json.loads(r.stdout)["findings"]
    cardlink = sorted(
        f["line"]
        for f in found
        if f["file"] == "catalog/spis/cardlink.yaml" and f["code"] == "SPO423"
    )
    # daniel.okafor owns Cardlink's incident process, whose three activities give A to
    # team-service-management (lines 32, 37 and 42 of catalog/spis/cardlink.yaml)
    assert cardlink == [32, 37, 42]
    full = validate(load_project(repo)).findings.items
    assert sorted((d.file, d.line, d.code) for d in full if d.code == "SPO423") == sorted(
        (f["file"], f["line"], f["code"]) for f in found if f["code"] == "SPO423"
    )


# --- the site ------------------------------------------------------------------------------------


def test_the_site_shows_the_roles_beside_each_raci_table_escaped(tmp_path: Path) -> None:
    root = tmp_path / "c"
    shutil.copytree(REPO / "catalog", root / "catalog")
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    spi_file = root / "catalog/spis/cardlink.yaml"
    text = spi_file.read_text(encoding="utf-8")
    assert "        - tomasz.nowak\n" in text
    spi_file.write_text(text.replace("        - tomasz.nowak\n", '        - "<b>x</b>"\n', 1))
    result = validate(load_project(root))
    files = build_site(SiteInput(result.index, result.capacity, None, {}, use_dot=False))
    page = files["services/card-processing.html"]
    section = page[page.index("cardlink-card-processing ·") :]
    section = section[: section.find("<h3>") if "<h3>" in section else len(section)]
    incident = re.search(
        r'<div class="process">\s*<table class="raci"><caption>incident</caption>.*?</table>\s*'
        r'<dl class="roles" data-process="incident">(.*?)</dl>\s*</div>',
        section,
        re.S,
    )
    assert incident is not None
    roles = dict(re.findall(r"<dt>(\w+)</dt><dd>(.*?)</dd>", incident.group(1)))
    assert roles == {
        "owner": "daniel.okafor",
        "managers": "&lt;b&gt;x&lt;/b&gt;",
        "practitioners": '<a href="../parties/cardlink-processing.html">cardlink-processing</a>, '
        '<a href="../parties/team-payments.html">team-payments</a>',
    }
    assert "<b>x</b>" not in page
    security = re.search(r'<dl class="roles" data-process="security">(.*?)</dl>', section, re.S)
    assert security is not None
    assert "<dt>managers</dt><dd>none</dd>" in security.group(1)
