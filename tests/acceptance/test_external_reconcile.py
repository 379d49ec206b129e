"""spo reconcile of the reference catalog into external systems on 127.0.0.1: a ServiceNow-style
REST server (with faults) and AWS (moto in server mode), with the shipped example blueprints;
and plan/apply through the example provider plugin."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.gitrepo import commit, git
from tests.helpers import run_spo
from tests.restserver import Server
from tests.servers import TOKEN, aws_env, moto_url, rest  # noqa: F401 - fixtures


def _bank(root: Path, blueprints: str | None, providers: dict[str, object]) -> Path:
    root.mkdir()
    for name in ("catalog", "policies"):
        shutil.copytree(REPO / name, root / name)
    if blueprints:
        shutil.copytree(REPO / "examples" / blueprints / "blueprints", root / "blueprints")
    else:
        (root / "blueprints").mkdir()
    config = yaml.safe_load((REPO / "spo.yaml").read_text())
    config["providers"] = providers
    (root / "spo.yaml").write_text(yaml.safe_dump(config))
    (root / ".gitignore").write_text(".spo/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    commit(root, "catalog")
    return root


def test_reconcile_into_servicenow_converges_through_faults(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rest: Server,  # noqa: F811
) -> None:
    settings = {
        "base_url": rest.url,
        "profile": "servicenow",
        "token_env": "SNOW_TOKEN",
        "backoff": 0.01,
        "timeout": 1.0,
    }
    root = _bank(tmp_path / "bank", "servicenow", {"http": settings})
    monkeypatch.chdir(root)
    rest.state.fault("*", "500", "429", "drop", "500")
    rest.state.fault("POST", "malformed")  # one record created whose answer is garbled
    first = run_spo("reconcile", "--auto-approve")
    services = rest.state.tables["cmdb_ci_service"]
    names = [r["name"] for r in services.values()]
    assert "internet-banking" in names
    assert len(names) == len(set(names))  # never a duplicate
    if first.exit_code != 0:  # the garbled answer failed one action: the rerun adopts it
        assert "not valid JSON" in first.stdout + first.stderr
        second = run_spo("reconcile", "--auto-approve")
        assert second.exit_code == 0, second.stdout + second.stderr
    again = run_spo("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    assert "No changes" in again.stdout
    names = [r["name"] for r in rest.state.tables["cmdb_ci_service"].values()]
    assert len(names) == len(set(names))
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in rest.state.requests)
    for path in [*root.joinpath(".spo").rglob("*"), *root.glob("*.json")]:
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    with sqlite3.connect(root / ".spo" / "state.db") as db:
        dump = "\n".join(db.iterdump())
    assert TOKEN not in dump


def test_reconcile_into_aws_converges(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_url: str,  # noqa: F811
    aws_env: None,  # noqa: F811
) -> None:
    root = _bank(tmp_path / "bank", "aws", {"aws": {"endpoint_url": moto_url}})
    monkeypatch.chdir(root)
    first = run_spo("reconcile", "--auto-approve")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "Apply complete" in first.stdout
    second = run_spo("plan", "--detailed-exitcode")
    assert second.exit_code == 0, second.stdout
    assert "No changes" in second.stdout
    listed = run_spo("state", "list", "--format", "json")
    addresses = [r["address"] for r in json.loads(listed.stdout)["resources"]]
    assert "aws.product.internet-banking" in addresses
    assert "aws.application.internet-banking" in addresses
    # one portfolio per business domain, rendered by each of its services, created once
    portfolios = sorted(a for a in addresses if a.startswith("aws.portfolio."))
    assert "aws.portfolio.digital-channels" in portfolios
    assert len(portfolios) == len(set(portfolios)) >= 3
    import boto3

    sc = boto3.client("servicecatalog", endpoint_url=moto_url, region_name="eu-west-1")
    names = [p["DisplayName"] for p in sc.list_portfolios()["PortfolioDetails"]]
    assert sorted(names) == [a.split(".", 2)[2] for a in portfolios]


def test_plan_and_apply_through_the_example_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _bank(tmp_path / "bank", None, {"jsonstore": {"path": "records.json"}})
    svc = root / "catalog" / "services" / "card-processing.yaml"
    text = svc.read_text()
    assert "provisioning:" not in text
    svc.write_text(
        text.rstrip("\n")
        + "\n  provisioning:\n    - provider: jsonstore\n      type: record\n"
        + "      properties: {owner: team-digital, tier: 1}\n"
    )
    commit(root, "provision through the plugin")
    monkeypatch.chdir(root)
    assert run_spo("validate").exit_code in (0, 2)
    result = run_spo("reconcile", "--auto-approve")
    assert result.exit_code == 0, result.stdout + result.stderr
    records = json.loads((root / "records.json").read_text())["record"]
    assert [r["name"] for r in records.values()] == ["card-processing"]
    assert "No changes" in run_spo("plan").stdout
