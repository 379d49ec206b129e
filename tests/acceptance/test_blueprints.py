"""Blueprints and compile: what they produce, and every way they can go wrong, located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_spo

CATALOG = """apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
"""


def service(name: str, domain: str, extra: str = "") -> str:
    return f"""---
apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec:
  type: technical
  tier: 2
  outcomes: [{{name: it works}}]{extra}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec:
  service: {name}
  stage: live
  domain: {domain}
  approvals:
    - {{stage: approved, approver: team-a, date: 2025-01-15}}
    - {{stage: chartered, approver: team-a, date: 2025-02-15}}
    - {{stage: designed, approver: team-a, date: 2025-03-15}}
    - {{stage: transitioning, approver: team-a, date: 2025-04-15}}
    - {{stage: live, approver: team-a, date: 2025-05-15}}
"""


@pytest.fixture
def project(in_tmp: Path) -> Path:
    (in_tmp / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n")
    (in_tmp / "catalog").mkdir()
    (in_tmp / "catalog" / "all.yaml").write_text(
        CATALOG + service("pay", "payments") + service("cards", "payments") + service("id", "iam")
    )
    (in_tmp / "blueprints").mkdir()
    return in_tmp


def blueprint(root: Path, text: str) -> None:
    (root / "blueprints" / "ServiceModel.yaml.j2").write_text(text)


def planned(root: Path) -> list[str]:
    result = run_spo("plan", "--no-refresh", "-o", "p.json")
    assert result.exit_code == 0, result.stderr
    return [a["address"] for a in json.loads((root / "p.json").read_text())["actions"]]


def failed(root: Path) -> str:
    result = run_spo("plan", "--no-refresh")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    return result.stderr


DOMAIN_AND_SERVICE = """\
- provider: cmdb
  type: party
  name: {{ portfolio.spec.domain }}
  properties: {type: team, title: {{ portfolio.spec.domain | tojson }}}
- provider: cmdb
  type: service
  properties: {owner: {{ metadata.owner }}, tier: {{ spec.tier }}}
  dependsOn: [cmdb.party.{{ portfolio.spec.domain }}]
"""


def test_identical_resources_from_several_entities_are_one(project: Path) -> None:
    blueprint(project, DOMAIN_AND_SERVICE)
    assert planned(project) == [
        "cmdb.party.iam",
        "cmdb.party.payments",  # rendered by pay and by cards, identically
        "cmdb.service.cards",
        "cmdb.service.id",
        "cmdb.service.pay",
    ]


def test_the_same_address_with_different_properties_is_an_error(project: Path) -> None:
    differing = DOMAIN_AND_SERVICE.replace(
        "title: {{ portfolio.spec.domain | tojson }}", "title: {{ name | tojson }}"
    )
    blueprint(project, differing)
    err = failed(project)
    assert "SPO701 resource cmdb.party.payments is also produced by" in err
    assert "catalog/all.yaml" in err


def test_a_blueprint_syntax_error_points_at_its_line(project: Path) -> None:
    blueprint(project, "- provider: cmdb\n  type: service\n{% if x %}\n")
    err = failed(project)
    assert "blueprints/ServiceModel.yaml.j2:3:1: error SPO704 blueprint syntax error" in err


def test_a_render_error_points_at_the_blueprint_line_and_names_the_entity(
    project: Path,
) -> None:
    blueprint(project, "- provider: cmdb\n  type: service\n  properties: {x: {{ spec.nope }}}\n")
    err = failed(project)
    assert "blueprints/ServiceModel.yaml.j2:3:1: error SPO705 blueprint failed for" in err
    assert "ServiceModel:cards" in err
    assert "nope" in err


def test_output_that_is_not_a_list_of_resources(project: Path) -> None:
    blueprint(project, "provider: cmdb\ntype: service\n")
    assert "SPO706 blueprint for ServiceModel:cards must render a YAML list" in failed(project)
    blueprint(project, "- provider: cmdb\n  kind: service\n")
    assert "unknown field(s) kind" in failed(project)


def test_unknown_dependencies_and_cycles(project: Path) -> None:
    blueprint(
        project,
        "- provider: cmdb\n  type: service\n  properties: {owner: team-a, tier: 2}\n"
        "  dependsOn: [cmdb.service.missing]\n",
    )
    assert "SPO702 cmdb.service.cards depends on cmdb.service.missing" in failed(project)
    blueprint(
        project,
        "- provider: cmdb\n  type: service\n  properties: {owner: team-a, tier: 2}\n"
        "  dependsOn: [cmdb.service.{{ 'cards' if name == 'pay' else 'pay' }}]\n",
    )
    assert "SPO703 resource dependency cycle: cmdb.service.cards -> cmdb.service.pay" in failed(
        project
    )


def test_blueprints_are_sandboxed(project: Path) -> None:
    blueprint(project, "- {provider: cmdb, type: service, name: {{ ''.__class__.__mro__ }}}\n")
    err = failed(project)
    assert "SPO705" in err
    assert "unsafe" in err or "__class__" in err


def test_blueprint_output_is_checked_against_the_providers_schema(project: Path) -> None:
    blueprint(project, "- {provider: cmdb, type: service, properties: {owner: team-a, tier: 9}}\n")
    err = failed(project)
    assert "blueprints/ServiceModel.yaml.j2:1:1: error SPO708 blueprint output" in err
    assert "cmdb.service.cards" in err and "properties/tier" in err
    blueprint(project, "- {provider: cmdb, type: gadget, properties: {}}\n")
    assert "SPO707" in failed(project)
