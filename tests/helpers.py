"""Running the CLI the way a user does, inside the test process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from spo_gitops.cli.main import main


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_spo(*args: str) -> Result:
    """Invoke ``spo`` through its real entry point (the error handler and exit codes included)."""
    runner = CliRunner()
    with runner.isolation() as streams:
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        stdout, stderr = streams[0].getvalue(), streams[1].getvalue()
    return Result(code, stdout.decode(), stderr.decode())


PARTY = (
    "apiVersion: spo/v1\nkind: Party\nmetadata: {name: team-a, version: 1.0.0}\n"
    "spec: {type: team}\n"
)


def tiny_catalog(root: Path) -> Path:
    """A catalog of one Party in ``root``/work (so that ``root`` holds only what a test writes)."""
    work = root / "work"
    (work / "catalog").mkdir(parents=True)
    (work / "spo.yaml").write_text("catalog:\n  paths: [catalog]\n")
    (work / "catalog" / "team.yaml").write_text(PARTY)
    return work


def json_stream(text: str) -> list[Any]:
    """The JSON values written one after the other in ``text`` (the YAML test suite's
    ``in.json``: one value per document)."""
    decoder, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        value, i = decoder.raw_decode(text, i)
        out.append(value)
