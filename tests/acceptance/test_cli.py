"""The CLI as a user drives it: exit codes, output formats, init, schema export."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import run_spo, tiny_catalog


@pytest.fixture
def reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped reference catalog, as its own project."""
    root = tmp_path / "ref"
    root.mkdir()
    for name in ("catalog", "policies", "schemas"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    monkeypatch.chdir(root)
    return root


def test_reference_catalog_validates_clean(reference: Path) -> None:
    result = run_spo("validate", "--no-color")
    assert result.exit_code == 0, result.stdout
    assert "no problems found" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_machine_formats_are_json(reference: Path, fmt: str) -> None:
    result = run_spo("validate", "--format", fmt)
    assert result.exit_code == 0
    json.loads(result.stdout)


def test_junit_output_is_xml_listing_every_file(reference: Path) -> None:
    result = run_spo("validate", "--format", "junit")
    assert result.exit_code == 0
    root = ET.fromstring(result.stdout.encode())
    files = {suite.get("name") for suite in root.iter("testsuite")}
    assert "catalog/services/internet-banking.yaml" in files or len(files) >= 30


def test_an_error_exits_1_and_output_file_is_written(reference: Path) -> None:
    sla = next((reference / "catalog" / "slas").glob("*.yaml"))
    sla.write_text(sla.read_text().replace("unit: percent", "unit: h", 1))
    report = reference / "out" / "findings.json"
    result = run_spo("validate", "--format", "json", "-o", str(report))
    assert result.exit_code == 1
    findings = json.loads(report.read_text())["findings"]
    assert any(f["code"] == "SPO408" and f["file"] == f"catalog/slas/{sla.name}" for f in findings)


def test_github_format_emits_annotations(reference: Path) -> None:
    svc = reference / "catalog" / "services" / "broken.yaml"
    svc.write_text("apiVersion: spo/v1\nkind: ServiceModel\n")
    result = run_spo("validate", "--format", "github")
    assert result.exit_code == 1
    assert "::error file=catalog/services/broken.yaml,line=1" in result.stdout


def test_warnings_pass_unless_strict(in_tmp: Path) -> None:
    run_spo("init", ".")
    (in_tmp / "catalog" / "portfolio" / "collaboration.yaml").unlink()  # SPO307: a warning
    assert run_spo("validate").exit_code == 0
    strict = run_spo("validate", "--strict")
    assert strict.exit_code == 1
    assert "SPO307" in strict.stdout


def test_init_then_validate_is_clean(in_tmp: Path) -> None:
    result = run_spo("init", "newcat", "--org", "globex", "--team", "team-ops")
    assert result.exit_code == 0, result.stderr
    assert (in_tmp / "newcat" / ".github" / "workflows" / "catalog-ci.yml").is_file()
    validated = run_spo("-C", "newcat", "validate", "--strict")
    assert validated.exit_code == 0, validated.stdout
    assert "0 errors, 0 warnings" in validated.stdout or "no problems found" in validated.stdout
    assert run_spo("-C", "newcat", "schema", "export", "--check").exit_code == 0


def test_init_refuses_an_existing_project(in_tmp: Path) -> None:
    assert run_spo("init").exit_code == 0
    again = run_spo("init")
    assert again.exit_code == 64
    assert "already exists" in again.stderr


def test_init_refuses_invalid_names(in_tmp: Path) -> None:
    result = run_spo("init", "--team", "Team_Ops")
    assert result.exit_code == 64
    assert "not a lowercase DNS label" in result.stderr


def test_schema_export_check_detects_drift(in_tmp: Path) -> None:
    assert run_spo("schema", "export").exit_code == 0
    assert run_spo("schema", "export", "--check").exit_code == 0
    target = in_tmp / "schemas" / "v1" / "Party.json"
    target.write_text(target.read_text().replace('"team"', '"squad"'))
    result = run_spo("schema", "export", "--check")
    assert result.exit_code == 1
    assert "v1/Party.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_committed_schemas_match_the_models() -> None:
    result = run_spo("schema", "export", "--check", "--dir", str(REPO / "schemas"))
    assert result.exit_code == 0, result.stderr


def test_usage_errors_exit_64_not_2(in_tmp: Path) -> None:
    assert run_spo("validate", "--format", "yaml").exit_code == 64
    assert run_spo("no-such-command").exit_code == 64
    assert run_spo("validate", "--jobs", "-3").exit_code == 64


def test_missing_path_is_a_finding(in_tmp: Path) -> None:
    result = run_spo("validate", "nope.yaml", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["findings"][0]["code"] == "SPO100"


def test_invalid_spo_yaml_is_located(in_tmp: Path) -> None:
    (in_tmp / "spo.yaml").write_text("catalog:\n  paths: [catalog]\n  colour: red\n")
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    finding = json.loads(result.stdout)["findings"][0]
    assert (finding["code"], finding["file"], finding["line"]) == ("SPO901", "spo.yaml", 3)


def test_internal_error_exits_70_with_a_bug_report(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny_catalog(in_tmp))

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr("spo_gitops.cli.validate_cmd.run_validate", boom)
    result = run_spo("validate")
    assert result.exit_code == 70
    assert "injected fault" in result.stderr
    log = Path(result.stderr.split("written to ")[1].split(";")[0])
    assert "RuntimeError: injected fault" in log.read_text()


def test_version_and_help() -> None:
    assert run_spo("--version").exit_code == 0
    help_text = run_spo("--help").stdout
    assert "64 usage error" in help_text


def test_output_to_a_fifo_keeps_the_fifo(in_tmp: Path) -> None:
    import os
    import threading

    work = tiny_catalog(in_tmp)
    fifo = in_tmp / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = run_spo("-C", str(work), "validate", "--format", "json", "-o", str(fifo))
    reader.join(timeout=10)
    assert result.exit_code == 0
    assert json.loads(received[0])["summary"]["documents"] == 1
    assert fifo.is_fifo()


def test_output_file_replaced_atomically_leaves_no_temp_files(in_tmp: Path) -> None:
    out = in_tmp / "report.json"
    out.write_text("old")
    tiny_catalog(in_tmp)
    assert run_spo("-C", "work", "validate", "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["format_version"] == 1
    assert sorted(p.name for p in in_tmp.iterdir()) == ["report.json", "work"]


def test_interrupt_exits_130_without_a_traceback(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("spo_gitops.cli.validate_cmd.run_validate", interrupted)
    monkeypatch.chdir(tiny_catalog(in_tmp))
    result = run_spo("validate")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert "Traceback" not in result.stderr
