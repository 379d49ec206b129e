"""spo sla rules: the rules pass `promtool check rules`, and `promtool test rules` shows that they
fire on an outage that burns the budget and stay quiet on a blip it can absorb.

Availability target 99.5 %: the budget is 0.5 points, so the bounds are 100 - burn * 0.5:
92.8 (14.4x, 1h/5m), 97 (6x, 6h/30m), 98.5 (3x, 1d/2h) and 99.5 (1x, 3d/6h)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.helpers import run_spo
from tests.prometheus import require_tools

LOOP = REPO / "examples" / "improvement-loop"
SERIES = 'probe_success{service="network-infrastructure"}'


def _catalog(root: Path) -> Path:
    repo = root / "repo"
    shutil.copytree(LOOP, repo)
    slas = repo / "catalog" / "slas.yaml"
    first, second = slas.read_text().split("\n---\n")
    second += (
        "    - metric: availability\n"
        "      target: 99.5\n"
        "      unit: percent\n"
        '      promql: 100 * avg_over_time(probe_success{service="$service"}[$window])\n'
    )
    slas.write_text(first + "\n---\n" + second)
    return repo


def _alert(severity: str, long: str, short: str, burn: str) -> dict[str, object]:
    return {
        "exp_labels": {
            "service": "network-infrastructure",
            "customer": "business-units",
            "sla": "network-infrastructure-business",
            "objective": "availability",
            "tier": "2",
            "owner": "team-network",
            "severity": severity,
            "long_window": long,
            "short_window": short,
            "burn_rate": burn,
        },
        "exp_annotations": {
            "summary": "network-infrastructure: network-infrastructure-business availability "
            f"burns its error budget {burn}x as fast as its target 99.5 % allows "
            f"(over {long} and {short})"
        },
    }


def test_rules_check_and_fire_only_when_the_budget_burns(in_tmp: Path) -> None:
    _, promtool = require_tools()
    repo = _catalog(in_tmp)
    r = run_spo("-C", str(repo), "sla", "rules", "-o", "rules.yml")
    assert r.exit_code == 0, r.stderr
    # the MTTR objectives have no PromQL source: only availability gets rules
    assert "4 alerting rules for 1 SLA(s)" in r.stderr
    check = subprocess.run(
        [promtool, "check", "rules", "rules.yml"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 4 rules found" in check.stdout

    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                # up for an hour, then down: at 70m ten minutes of the last hour were down
                # (~84 % over 1h, 0 % over 5m; ~86 % over 6h, 1d and 3d; ~67 % over 30m)
                "interval": "1m",
                "input_series": [{"series": SERIES, "values": "1x60 0x60"}],
                "alert_rule_test": [
                    {"eval_time": "30m", "alertname": "SLOErrorBudgetBurn", "exp_alerts": []},
                    {
                        "eval_time": "70m",
                        "alertname": "SLOErrorBudgetBurn",
                        "exp_alerts": [
                            _alert("page", "1h", "5m", "14.4"),
                            _alert("page", "6h", "30m", "6"),
                            _alert("ticket", "1d", "2h", "3"),
                            _alert("ticket", "3d", "6h", "1"),
                        ],
                    },
                ],
            },
            {
                # one minute down after twelve hours up, looked at 39 minutes later: 1 of ~61
                # samples over 1h (98.4 > 92.8), none over 5m or 30m, 1 of ~121 over 2h
                # (99.2 > 98.5), 1 of ~361 over 6h (99.72 > 99.5): nothing fires
                "interval": "1m",
                "input_series": [{"series": SERIES, "values": "1x720 0 1x60"}],
                "alert_rule_test": [
                    {"eval_time": "760m", "alertname": "SLOErrorBudgetBurn", "exp_alerts": []},
                ],
            },
        ],
    }
    (repo / "rules_test.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    run = subprocess.run(
        [promtool, "test", "rules", "rules_test.yml"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout


def test_objectives_without_a_percentage_get_no_rules(in_tmp: Path) -> None:
    repo = _catalog(in_tmp)
    (repo / "spo.yaml").write_text(
        "apiVersion: spo/v1\nkind: Project\ncatalog: {paths: [catalog]}\n"
        "metrics: {prometheus: {queries: {mttr: 'avg_over_time(restore_hours[$window])'}}}\n"
    )
    r = run_spo("-C", str(repo), "sla", "rules")
    assert r.exit_code == 0
    assert (
        "application-support-business mttr: no rules: burn-rate alerts need a percentage where "
        "higher is better" in r.stderr
    )
    rules = yaml.safe_load(r.stdout)
    assert [g["name"] for g in rules["groups"]] == ["slo-network-infrastructure-business"]
