"""Options every command takes, wherever it is written on the command line: ``--no-color``
(also ``spo --no-color ...``), and the global ``-q``/``-v``. Their values live in the root
context's ``meta``, where :func:`no_color` and :func:`verbosity` read them."""

from __future__ import annotations

import click

NO_COLOR = "spo.no_color"
VERBOSITY = "spo.verbosity"


def _set_no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().meta[NO_COLOR] = True


def no_color_option() -> click.Option:
    return click.Option(
        ["--no-color"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_no_color,
        help="No colour in the output (as NO_COLOR=1 does).",
    )


# an example for the --help of each command (by its path), shown when it has no epilog of its own
EXAMPLES: dict[str, str] = {
    "apply": "spo apply plan.json --auto-approve",
    "bump": "spo bump internet-banking --part major",
    "capacity": "spo capacity forecast --quarters 4",
    "capacity forecast": "spo capacity forecast --quarters 4 --format markdown -o capacity.md",
    "codeowners": "spo codeowners --check",
    "diff": "spo diff origin/main HEAD --format markdown -o diff.md",
    "docs": "spo docs build -o site",
    "docs build": "spo docs build -o site --metrics metrics.csv",
    "drift": "spo drift --format markdown",
    "export": "spo export backstage -o backstage",
    "export backstage": "spo export backstage -o backstage "
    "--repo-url https://github.com/acme/catalog/blob/main",
    "graph": "spo graph --format svg -o graph.svg",
    "init": "spo init my-catalog --org acme --team team-platform",
    "metrics": "spo metrics pull --incidents incidents.csv -o metrics.csv",
    "metrics pull": "spo metrics pull --incidents incidents.csv -o metrics.csv",
    "new": "spo new service instant-payments --owner team-digital --branch",
    "new service": "spo new service instant-payments --owner team-digital --branch",
    "notify": "spo notify --changes origin/main..HEAD --preview",
    "plan": "spo plan -o plan.json --detailed-exitcode",
    "policy": "spo policy test",
    "policy test": "spo policy test policies/tests",
    "portfolio": "spo portfolio report --format markdown -o portfolio.md",
    "portfolio report": "spo portfolio report --format html -o portfolio.html",
    "providers": "spo providers list --format json",
    "providers list": "spo providers list --format json",
    "providers schema": "spo providers schema cmdb service",
    "reconcile": "spo reconcile --auto-approve",
    "review": "spo review pack --period 2026-Q3 --metrics metrics.csv -o packs",
    "review pack": "spo review pack --period 2026-Q3 --metrics metrics.csv -o packs",
    "schema": "spo schema export --check",
    "schema export": "spo schema export --check",
    "schema show": "spo schema show ServiceModel",
    "show": "spo show plan.json --format markdown",
    "sla": "spo sla report --metrics metrics.csv --period 2026-06",
    "sla report": "spo sla report --metrics metrics.csv --period 2026-06 --format html -o sla.html",
    "sla rules": "spo sla rules -o slo-rules.yaml",
    "state": "spo state list",
    "state history": "spo state history --limit 5",
    "state list": "spo state list --format json",
    "state show": "spo state show cmdb.service.internet-banking",
    "state unlock": "spo state unlock 3f2a9c",
    "validate": "spo validate --format sarif -o spo.sarif",
}


def add_common_options(command: click.Command, path: str = "") -> click.Command:
    """``command`` (and each subcommand of a group) with ``--no-color`` when it lacks one, and
    its example from :data:`EXAMPLES` when it has no epilog."""
    path = path or (command.name or "")
    if not any("--no-color" in p.opts + p.secondary_opts for p in command.params):
        command.params.append(no_color_option())
    if command.epilog is None and path in EXAMPLES:
        command.epilog = f"Example: {EXAMPLES[path]}"
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            add_common_options(sub, f"{path} {name}")
    return command


def no_color() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get(NO_COLOR))


def verbosity() -> int:
    """-1 with -q (only results and errors), 0 by default, 1 and more with -v."""
    ctx = click.get_current_context(silent=True)
    return int(ctx.find_root().meta.get(VERBOSITY, 0)) if ctx is not None else 0


def detail(message: str) -> None:
    """More detail on stderr (what was read, how long it took): shown with -v."""
    if verbosity() >= 1:
        click.echo(message, err=True)


def info(message: str) -> None:
    """A note on stderr (what was written, what was skipped): left out with -q."""
    if verbosity() >= 0:
        click.echo(message, err=True)
