"""The ``spo`` executable leaves without tearing down its heap: what it printed is all there, and
its exit code is main's (0, 1 for findings, 64 for a usage error), also through a closed pipe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SPO = [sys.executable, "-m", "spo_gitops.cli.main"]


def _spo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SPO, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_report_is_whole_and_the_exit_code_is_mains(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "catalog", root / "catalog")
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    for folder in ("policies", "blueprints"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder)
    clean = _spo(root, "validate", "--format", "json")
    assert clean.returncode == 0, clean.stderr
    report = json.loads(clean.stdout)  # the whole report, not a prefix of it
    documents = len([p for p in (root / "catalog").rglob("*.yaml")])
    assert report["summary"]["errors"] == 0 and report["summary"]["documents"] >= documents

    broken = root / "catalog" / "broken.yaml"
    broken.write_text("apiVersion: spo/v1\nkind: Nonsense\nmetadata: {name: x}\n")
    found = _spo(root, "validate", "--format", "json")
    assert found.returncode == 1
    codes = [f["code"] for f in json.loads(found.stdout)["findings"]]
    assert "SPO203" in codes

    assert _spo(root, "--bogus").returncode == 64
    assert _spo(root, "validate", "--help").returncode == 0


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [*SPO, "schema", "show", "ServiceModel"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader went away (spo ... | head)
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert b"Traceback" not in err and b"Exception ignored" not in err
