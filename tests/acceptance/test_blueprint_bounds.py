"""Blueprints are bounded (a runaway loop or recursion stops with a located finding) and
checked by spo validate for every valid shape of their kind, not only the entities of today."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import run_spo

PARTIES = """apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec:
  type: team
  contacts: [{name: Ann, role: lead, email: ann@example.com}]
---
apiVersion: spo/v1
kind: Party
metadata: {name: team-b, version: 1.0.0, title: Team B}
spec:
  type: team
  contacts: [{name: Bob, email: bob@example.com}]
"""

NO_CONTACTS = """---
apiVersion: spo/v1
kind: Party
metadata: {name: team-c, version: 1.0.0}
spec: {type: team}
"""


@pytest.fixture
def project(in_tmp: Path) -> Path:
    (in_tmp / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n")
    (in_tmp / "catalog").mkdir()
    (in_tmp / "catalog" / "parties.yaml").write_text(PARTIES)
    (in_tmp / "blueprints").mkdir()
    return in_tmp


def blueprint(root: Path, text: str) -> None:
    (root / "blueprints" / "Party.yaml.j2").write_text(text)


def findings(result_stdout: str, code: str) -> list[str]:
    return [line for line in result_stdout.splitlines() if f" {code} " in line]


RUNAWAY = """\
{% for i in range(100000) %}
{% for j in range(100000) %}
{% endfor %}
{% endfor %}
- {provider: cmdb, type: party, properties: {type: team, title: x}}
"""


def test_nested_loops_stop_with_a_located_finding(project: Path) -> None:
    blueprint(project, RUNAWAY)
    started = time.monotonic()
    result = run_spo("validate")
    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    [finding] = findings(result.stdout, "SPO705")
    assert finding.startswith("blueprints/Party.yaml.j2:2:")  # the inner loop
    assert "rendering stopped after" in finding
    plan = run_spo("plan", "--no-refresh")
    assert plan.exit_code == 1
    assert "Traceback" not in plan.stderr


def test_endless_recursion_stops_with_a_finding(project: Path) -> None:
    blueprint(project, "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}\n")
    result = run_spo("validate")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    [finding] = findings(result.stdout, "SPO705")
    assert "calls itself too deep" in finding


def test_a_huge_value_stops_with_a_finding(project: Path) -> None:
    blueprint(project, "- {{ 'x' * 1000000000 }}\n")
    result = run_spo("validate")
    assert result.exit_code == 1
    assert "more than 10,000,000" in result.stdout


UNGUARDED = """\
- provider: cmdb
  type: party
  properties:
    type: {{ spec.type }}
    title: {{ metadata.title | default(name) | tojson }}
    email: {{ spec.contacts[0].email | tojson }}
"""


def test_validate_renders_a_shape_no_entity_has_yet(project: Path) -> None:
    blueprint(project, UNGUARDED)  # renders for every Party of today: they all have contacts
    result = run_spo("validate")
    assert result.exit_code == 1
    shapes = findings(result.stdout, "SPO705")
    assert any(
        line.startswith("blueprints/Party.yaml.j2:6:")
        and "a valid Party without spec.contacts" in line
        for line in shapes
    ), result.stdout
    assert len(shapes) == 1  # one finding per blueprint line, however many shapes break it


def test_the_reference_party_blueprint_takes_a_party_without_contacts(project: Path) -> None:
    shutil.copy(REPO / "blueprints" / "Party.yaml.j2", project / "blueprints" / "Party.yaml.j2")
    result = run_spo("validate")
    assert result.exit_code == 0, result.stdout
    with (project / "catalog" / "parties.yaml").open("a") as fh:
        fh.write(NO_CONTACTS)
    plan = run_spo("plan", "--no-refresh")
    assert plan.exit_code == 0, plan.stderr
    assert "cmdb.party.team-c" in plan.stderr + plan.stdout


def test_the_reference_blueprints_pass_the_shape_check(tmp_path: Path) -> None:
    root = tmp_path / "ref"
    for name in ("catalog", "policies", "blueprints"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    result = run_spo("-C", str(root), "validate", "--format", "json")
    assert '"SPO705"' not in result.stdout
