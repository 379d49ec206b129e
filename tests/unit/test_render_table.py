"""The renderer table (report/formats.py) is the one place a command's formats come from: every
entry resolves to a function, and each command's --format choices are its result type's."""

from __future__ import annotations

import click
import pytest

from spo_gitops.cli.main import cli
from spo_gitops.report.formats import TABLE, formats, renderer

COMMANDS = {
    ("sla", "report"): "sla",
    ("portfolio", "report"): "portfolio",
    ("capacity", "forecast"): "forecast",
}


@pytest.mark.parametrize(("kind", "fmt"), [(k, f) for k, fs in TABLE.items() for f in fs])
def test_every_entry_resolves_to_a_renderer(kind: str, fmt: str) -> None:
    assert callable(renderer(kind, fmt))


@pytest.mark.parametrize(("path", "kind"), list(COMMANDS.items()))
def test_a_command_offers_exactly_the_formats_of_its_result_type(
    path: tuple[str, ...], kind: str
) -> None:
    ctx = click.Context(cli)
    command: click.Command | None = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.get_command(ctx, name)
    assert command is not None
    (option,) = [p for p in command.params if "--format" in getattr(p, "opts", [])]
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == formats(kind)
