"""Policies through the CLI: shipped rules, waivers, capacity, broken expressions, policy tests."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.gitrepo import reference_repo
from tests.helpers import run_spo

CASES = sorted((REPO / "policies" / "tests").glob("*/fail"))


@pytest.fixture
def reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ref"
    root.mkdir()
    for name in ("catalog", "policies", "schemas"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    monkeypatch.chdir(root)
    return root


def test_reference_passes_every_policy_with_documented_waivers(reference: Path) -> None:
    result = run_spo("validate", "--no-color")
    assert result.exit_code == 0, result.stdout
    assert "no problems found (4 waived)" in result.stdout
    # 188 FTE committed of 260 (72.3 %); 22 more in the pipeline: 210 of 260 (80.8 %)
    assert re.search(
        r"engineering-fte\s+FTE\s+260\s+188\s+72\.3 %\s+22\s+80\.8 %\s+ok", result.stdout
    )


@pytest.mark.parametrize("case", CASES, ids=[c.parent.name for c in CASES])
def test_each_shipped_policy_fails_on_a_catalog_that_breaks_it(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    expect = yaml.safe_load((case / "expect.yaml").read_text())["findings"]
    fixture = case / "catalog.yaml"
    policies = sorted(str(p.relative_to(REPO)) for p in (REPO / "policies").glob("*.yaml"))
    result = run_spo("validate", "--no-color", str(fixture.relative_to(REPO)), *policies)
    docs = list(yaml.safe_load_all(fixture.read_text()))
    lines = [n for n, ln in enumerate(fixture.read_text().splitlines(), 1) if ln == "---"]
    starts = [1, *[n + 1 for n in lines]]
    for item in expect:
        kind, name = item["entity"].split(":")
        n = next(
            i for i, d in enumerate(docs) if (d["kind"], d["metadata"]["name"]) == (kind, name)
        )
        where = f"{fixture.relative_to(REPO).as_posix()}:{starts[n]}:"
        assert any(
            ln.startswith(where) and item["code"] in ln and item["entity"] in ln
            for ln in result.stdout.splitlines()
        ), result.stdout
    severe = any(" error POL" in ln for ln in result.stdout.splitlines())
    if severe:
        assert result.exit_code == 1


def test_overbooked_pool_fails_naming_the_biggest_consumers(reference: Path) -> None:
    pool = next(
        p
        for p in (reference / "catalog" / "pools").glob("*.yaml")
        if "engineering-fte" in p.read_text()
    )
    text = pool.read_text()
    pool.write_text(re.sub(r"capacity: 260\b", "capacity: 100", text, count=1))
    result = run_spo("validate", "--no-color")
    assert result.exit_code == 1
    line = next(ln for ln in result.stdout.splitlines() if "SPO504" in ln)
    assert "engineering-fte is overbooked: 188 of 100 FTE" in line
    assert "biggest consumers:" in line
    assert "overbooked" in result.stdout.split("Capacity")[-1]


def test_expired_waiver_is_an_error_and_accepts_nothing(reference: Path) -> None:
    policy = reference / "policies" / "business-case.yaml"
    policy.write_text(policy.read_text().replace("expires: 2027-12-31", "expires: 2020-01-31", 1))
    result = run_spo("validate", "--no-color")
    assert result.exit_code == 1
    expired = [ln for ln in result.stdout.splitlines() if "SPO503" in ln]
    assert len(expired) == 1
    assert expired[0].startswith("policies/business-case.yaml:")
    assert "expired on 2020-01-31" in expired[0]
    assert any("warning POL007" in ln for ln in result.stdout.splitlines())


def test_broken_expressions_are_findings_at_the_policy_field(reference: Path) -> None:
    shutil.copy(REPO / "tests" / "fixtures" / "policy" / "broken.yaml", reference / "policies")
    result = run_spo("validate", "--no-color")
    assert result.exit_code == 1
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"policies/broken\.yaml:8:\d+: error SPO501 policy TST001: assert", out)
    assert re.search(r"policies/broken\.yaml:17:\d+: error SPO501 .*no_such_helper", out)
    assert re.search(
        r"policies/broken\.yaml:28:\d+: error SPO502 policy TST003: assert failed on "
        r"ResourcePool:\S+ \(catalog/pools/\S+\.yaml:\d+\): no such key: 'nothere'",
        out,
    )


def test_policy_test_passes_on_the_shipped_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = run_spo("policy", "test")
    assert result.exit_code == 0, result.stdout
    n = len(list((REPO / "policies" / "tests").glob("*/*/expect.yaml")))  # fail and pass cases
    assert f"{n} cases, {n} passed, 0 failed" in result.stdout


def test_policy_test_shows_a_diff_on_mismatch(reference: Path) -> None:
    case = reference / "policies" / "tests" / "POL003-live-service-active-sla" / "fail"
    (case / "expect.yaml").write_text("findings:\n- {code: POL003, entity: ServiceModel:old}\n")
    result = run_spo("policy", "test")
    assert result.exit_code == 1
    assert "FAIL  POL003-live-service-active-sla/fail" in result.stdout
    assert "- expected POL003 ServiceModel:old (not found)" in result.stdout
    assert "+ unexpected POL003 ServiceModel:svc" in result.stdout


@pytest.mark.parametrize(
    ("kind", "name", "file"),
    [
        ("Risk", "card-processor-failure", "catalog/risks/card-processor-failure.yaml"),
        (
            "ImprovementPlan",
            "service-desk-first-contact-2026",
            "catalog/improvement-plans/service-desk-fcr.yaml",
        ),
        ("HolidayCalendar", "uk-bank-holidays", "catalog/calendars/uk-bank-holidays.yaml"),
    ],
)
def test_a_policy_applies_to_risks_improvement_plans_and_calendars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, name: str, file: str
) -> None:
    root = reference_repo(tmp_path / "repo")
    (root / "policies" / "extra.yaml").write_text(
        f"""apiVersion: spo/v1
kind: Policy
metadata:
  name: extra-{kind.lower()}
  version: 1.0.0
  owner: team-service-management
spec:
  code: POL990
  severity: error
  match:
    kinds: [{kind}]
  assert: self.metadata.name != '{name}'
  message: "{{{{ self.metadata.name }}}} is singled out"
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(root)
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1, result.stdout + result.stderr
    found = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "POL990"]
    assert [(f["file"], f["message"]) for f in found] == [(file, f"{name} is singled out")]
