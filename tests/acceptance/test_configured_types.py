"""Resource types a provider takes from spo.yaml (the http provider's collections) are known to
spo validate and to plan before anything runs: their schemas check provisioning entries, and
their sensitive properties are redacted."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_spo

CONFIG = """apiVersion: spo/v1
kind: Project
providers:
  http:
    base_url: http://127.0.0.1:9/api
    types:
      webhook:
        path: /webhooks
        sensitive: [secret]
        schema:
          type: object
          additionalProperties: false
          required: [url, secret]
          properties:
            url: {type: string, pattern: "^https://"}
            secret: {type: string}
"""

CATALOG = """apiVersion: spo/v1
kind: Party
metadata: {{name: team-a, version: 1.0.0}}
spec: {{type: team}}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: alerts, version: 1.0.0, owner: team-a}}
spec:
  type: technical
  tier: 3
  outcomes: [{{name: alerts reach the on-call team}}]
  provisioning:
    - provider: http
      type: {type}
      properties: {properties}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: alerts, version: 1.0.0, owner: team-a}}
spec:
  service: alerts
  stage: live
  approvals:
    - {{stage: approved, approver: team-a, date: 2025-01-15}}
    - {{stage: chartered, approver: team-a, date: 2025-02-15}}
    - {{stage: designed, approver: team-a, date: 2025-03-15}}
    - {{stage: transitioning, approver: team-a, date: 2025-04-15}}
    - {{stage: live, approver: team-a, date: 2025-05-15}}
"""


def write(root: Path, type_: str, properties: str) -> None:
    (root / "spo.yaml").write_text(CONFIG)
    (root / "catalog").mkdir(exist_ok=True)
    (root / "catalog" / "alerts.yaml").write_text(CATALOG.format(type=type_, properties=properties))


def findings(root: Path) -> list[tuple[str, int, str]]:
    result = run_spo("validate", "--format", "json")
    return [(f["code"], f["line"], f["message"]) for f in json.loads(result.stdout)["findings"]]


def test_a_configured_type_checks_properties_against_its_schema(in_tmp: Path) -> None:
    write(in_tmp, "webhook", "{url: http://plain.example/hook, secret: s3cr3t-value}")
    found = findings(in_tmp)
    assert [(c, line) for c, line, _ in found] == [("SPO708", 16)]
    assert "url" in found[0][2]
    assert "s3cr3t-value" not in found[0][2]


def test_a_type_nobody_configured_is_unknown(in_tmp: Path) -> None:
    write(in_tmp, "pager", "{url: https://x.example}")
    found = findings(in_tmp)
    assert [c for c, _, _ in found] == ["SPO707"]
    assert "pager" in found[0][2] and "webhook" in found[0][2]


def test_sensitive_properties_of_a_configured_type_are_redacted_in_plans(in_tmp: Path) -> None:
    write(in_tmp, "webhook", "{url: https://hooks.example/a, secret: s3cr3t-value}")
    assert findings(in_tmp) == []
    planned = run_spo("plan", "--no-refresh", "-o", "p.json")
    assert planned.exit_code == 0, planned.stderr
    assert "s3cr3t-value" not in planned.stdout
    assert "s3cr3t-value" not in (in_tmp / "p.json").read_text()
    assert "(sensitive)" in planned.stdout


def test_provider_settings_take_camel_case_keys_like_the_rest_of_spo_yaml(in_tmp: Path) -> None:
    write(in_tmp, "webhook", "{url: https://hooks.example/a, secret: s3cr3t-value}")
    camel = CONFIG.replace("base_url:", "baseUrl:").replace(
        "path: /webhooks", "path: /webhooks\n        idField: key"
    )
    (in_tmp / "spo.yaml").write_text(camel)
    assert findings(in_tmp) == []
    (in_tmp / "spo.yaml").write_text(camel.replace("idField:", "idFeld:"))
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    found = [
        (f["code"], f["file"], f["line"], f["message"])
        for f in json.loads(result.stdout)["findings"]
    ]
    # one finding, where the mistake is: spo.yaml, not the entries that use the provider
    assert [(c, file, line) for c, file, line, _ in found] == [("SPO901", "spo.yaml", 9)]
    assert "providers.http.types.webhook.idFeld" in found[0][3]


def test_an_unknown_provider_in_spo_yaml_is_located(in_tmp: Path) -> None:
    write(in_tmp, "webhook", "{url: https://hooks.example/a, secret: s}")
    (in_tmp / "spo.yaml").write_text(CONFIG + "  servicenow: {url: x}\n")
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["file"], finding["line"]) == ("SPO901", "spo.yaml", 17)
    assert "unknown provider 'servicenow'" in finding["message"]
