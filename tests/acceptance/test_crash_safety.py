"""An apply killed with SIGKILL at random points, then rerun, ends converged: exactly one provider
object per address, the state readable and complete, the journal complete."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spo_gitops.config import load_project
from spo_gitops.state.sqlite import SqliteState
from spo_gitops.testing.catalogs import write_provisioned_catalog

SERVICES = 250  # two resources each: 500 in all
ROUNDS = 20
SPO = [sys.executable, "-m", "spo_gitops.cli.main"]
NO_APPROVALS = "lifecycle: {approvalRequired: []}\n"  # the services go live without a trail


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with 500 resources to create, its empty state and a saved plan."""
    root = tmp_path_factory.mktemp("crash-template")
    write_provisioned_catalog(
        root, SERVICES, digits=3, chain=10, extras=("page",), config=NO_APPROVALS
    )
    planned = subprocess.run(
        [*SPO, "plan", "-o", "plan.json", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert planned.returncode == 0, planned.stderr
    assert json.loads((root / "plan.json").read_text())["summary"]["create"] == 2 * SERVICES
    return root


def apply(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SPO, "apply", "plan.json", "--auto-approve"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def check_converged(root: Path, *, debris_ok: bool = False) -> None:
    with sqlite3.connect(root / ".spo" / "cmdb.db") as db:
        counts = db.execute("SELECT type, name, count(*) FROM ci GROUP BY type, name").fetchall()
        ids = dict(db.execute("SELECT name, id FROM ci").fetchall())
    assert len(counts) == SERVICES
    assert all(n == 1 for _, _, n in counts)
    pages = sorted(p.name for p in (root / ".spo" / "artifacts" / "pages").iterdir())
    if debris_ok:  # a killed files provider's temporary files (their cleanup is its own case)
        pages = [p for p in pages if not p.endswith(".spo-tmp")]
    assert pages == [f"svc-{i:03d}.md" for i in range(SERVICES)]
    state = SqliteState(root / ".spo" / "state.db")
    try:
        resources = state.snapshot().resources
        assert len(resources) == 2 * SERVICES
        for i in range(SERVICES):
            assert resources[f"cmdb.service.svc-{i:03d}"].id == ids[f"svc-{i:03d}"]
        history = state.history(limit=100)
        assert history[0].outcome == "succeeded"
        assert all(r.outcome in ("succeeded", "interrupted") for r in history)
        done = {a.address for r in history for a in r.actions if a.phase == "succeeded"}
        assert done == set(resources)
    finally:
        state.close()


def test_full_apply_then_no_changes(template: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(template, root)
    proc = apply(root)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    check_converged(root)
    again = subprocess.run([*SPO, "plan"], cwd=root, capture_output=True, text=True, timeout=60)
    assert "No changes" in again.stdout


def test_sigkill_at_random_points_then_rerun_converges(template: Path, tmp_path: Path) -> None:
    rng = random.Random(20261124)
    # how long a full apply takes here, to spread the kill points over it
    probe = tmp_path / "probe"
    shutil.copytree(template, probe)
    started = time.monotonic()
    proc = apply(probe)
    proc.communicate(timeout=120)
    duration = time.monotonic() - started
    killed_mid_apply = 0
    for round_ in range(ROUNDS):
        root = tmp_path / f"round-{round_}"
        shutil.copytree(template, root)
        proc = apply(root)
        time.sleep(rng.uniform(0.05, duration))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        if proc.returncode == -signal.SIGKILL:
            killed_mid_apply += 1
        rerun = apply(root)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, f"round {round_}: {out}\n{err}"
        check_converged(root)
        assert load_project(root).diagnostics == []
    assert killed_mid_apply >= ROUNDS // 2  # most kills landed while the apply was running


def serial(root: Path) -> int:
    """The state's serial, read straight from its database (0 before the first write)."""
    path = root / ".spo" / "state.db"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT serial FROM meta").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0
    return int(row[0]) if row else 0


def kill_after_writes(root: Path, writes: int) -> None:
    """Apply the plan and SIGKILL it once it wrote ``writes`` more resources to the state."""
    start = serial(root)
    with (root / "apply.log").open("w") as log:  # a pipe nobody reads would block the apply
        proc = subprocess.Popen(
            [*SPO, "apply", "plan.json", "--auto-approve"], cwd=root, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 120
    while serial(root) < start + writes and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert proc.poll() is None, (
        "the apply ended before it was killed:\n" + (root / "apply.log").read_text()[-2000:]
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_an_apply_killed_again_while_resuming_resumes_again(template: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(template, root)
    for _ in range(3):
        kill_after_writes(root, 60)
    rerun = apply(root)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, f"{out}\n{err}"
    check_converged(root, debris_ok=True)
    again = apply(root)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 1
    assert "this plan was applied already" in err
