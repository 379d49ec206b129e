"""``spo validate FILE...`` checks the named files in the catalog's context (their references
resolve against the whole catalog) and reports their findings only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import run_spo


@pytest.fixture
def catalog(in_tmp: Path) -> Path:
    for name in ("catalog", "policies"):
        shutil.copytree(REPO / name, in_tmp / name)
    shutil.copy(REPO / "spo.yaml", in_tmp / "spo.yaml")
    return in_tmp


def test_two_valid_files_named_on_the_command_line_are_clean(catalog: Path) -> None:
    r = run_spo(
        "validate", "catalog/slas/network-branch.yaml", "catalog/services/internet-banking.yaml"
    )
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "does not exist" not in r.stdout


def test_a_named_file_reports_its_own_broken_reference(catalog: Path) -> None:
    sla = catalog / "catalog/slas/network-branch.yaml"
    sla.write_text(sla.read_text().replace("service: network", "service: no-such", 1))
    r = run_spo("validate", "catalog/slas/network-branch.yaml")
    assert r.exit_code == 1
    lines = [line for line in r.stdout.splitlines() if ": error " in line]
    assert lines and all(line.startswith("catalog/slas/network-branch.yaml:") for line in lines)
    assert "no-such" in r.stdout


def test_findings_of_files_not_named_are_not_reported(catalog: Path) -> None:
    sla = catalog / "catalog/slas/network-branch.yaml"
    sla.write_text(sla.read_text().replace("service: network", "service: no-such", 1))
    r = run_spo("validate", "catalog/services/internet-banking.yaml")
    assert r.exit_code == 0, r.stdout
    assert "network-branch" not in r.stdout
    # the whole catalog still sees it
    assert run_spo("validate").exit_code == 1


def test_a_folder_names_the_files_under_it(catalog: Path) -> None:
    sla = catalog / "catalog/slas/network-branch.yaml"
    sla.write_text(sla.read_text().replace("service: network", "service: no-such", 1))
    r = run_spo("validate", "catalog/slas")
    assert r.exit_code == 1
    assert "catalog/slas/network-branch.yaml:" in r.stdout


def test_a_missing_file_is_an_error(catalog: Path) -> None:
    r = run_spo("validate", "catalog/no-such.yaml")
    assert r.exit_code == 1
    assert "catalog/no-such.yaml" in r.stdout + r.stderr
