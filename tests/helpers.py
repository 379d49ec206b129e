"""Running the CLI the way a user does, inside the test process."""

from __future__ import annotations

from dataclasses import dataclass

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
