"""Entry point: the ``spo`` group, global options and the one error handler."""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import importlib
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from spo_gitops import __version__
from spo_gitops.catalog import heap
from spo_gitops.cli.habits import VERBOSITY, add_common_options, no_color_option
from spo_gitops.errors import SpoError
from spo_gitops.redaction import scrub

EXIT_OK, EXIT_FINDINGS, EXIT_CHANGES = 0, 1, 2
EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 64, 70, 130


# command -> "module:attribute"; a command's module is imported only when it runs (or for --help),
# so that `spo validate` does not pay for importing matplotlib, boto3 or the git layer
COMMANDS: dict[str, str] = {
    "validate": "spo_gitops.cli.validate_cmd:validate",
    "init": "spo_gitops.cli.init_cmd:init",
    "schema": "spo_gitops.cli.schema_cmd:schema",
    "policy": "spo_gitops.cli.policy_cmd:policy",
    "diff": "spo_gitops.cli.diff_cmd:diff",
    "bump": "spo_gitops.cli.diff_cmd:bump",
    "new": "spo_gitops.cli.new_cmd:new",
    "codeowners": "spo_gitops.cli.codeowners_cmd:codeowners",
    "sla": "spo_gitops.cli.sla_cmd:sla",
    "metrics": "spo_gitops.cli.metrics_cmd:metrics",
    "review": "spo_gitops.cli.review_cmd:review",
    "notify": "spo_gitops.cli.notify_cmd:notify",
    "docs": "spo_gitops.cli.docs_cmd:docs",
    "graph": "spo_gitops.cli.graph_cmd:graph",
    "providers": "spo_gitops.cli.providers_cmd:providers",
    "state": "spo_gitops.cli.state_cmd:state",
    "plan": "spo_gitops.cli.plan_cmd:plan",
    "apply": "spo_gitops.cli.plan_cmd:apply",
    "reconcile": "spo_gitops.cli.plan_cmd:reconcile",
    "drift": "spo_gitops.cli.plan_cmd:drift",
    "show": "spo_gitops.cli.show_cmd:show",
    "portfolio": "spo_gitops.cli.portfolio_cmd:portfolio",
    "capacity": "spo_gitops.cli.capacity_cmd:capacity",
    "export": "spo_gitops.cli.export_cmd:export",
}

# command -> its one-line help, so that `spo --help` lists the commands without importing them
# (tests/acceptance/test_light_install.py checks that each matches the command's own help)
SUMMARIES: dict[str, str] = {
    "validate": "Validate the catalog (or PATHS): YAML, schemas, references and semantic checks.",
    "init": "Write a new catalog repository into DIRECTORY: spo.yaml, sample entities, schemas, "
    "CI.",
    "schema": "JSON Schemas of the document kinds (for editors and other tools).",
    "policy": "Work with the Policy documents of the catalog.",
    "diff": "Entity-level diff of the catalog from BASE to HEAD (default: the working tree), with "
    "the versioning and lifecycle rules checked and the impact of each change.",
    "bump": "Raise the metadata.version of entity NAME in place, keeping comments and layout.",
    "new": "Scaffold a proposal from templates.",
    "codeowners": "Write .github/CODEOWNERS: each catalog file owned by its teams' code-host "
    "handles.",
    "sla": "Service level management: SLA reports from measured values.",
    "metrics": "Measured values for spo sla report, pulled from monitoring, the service desk, "
    "surveys.",
    "review": "Service reviews with customers: review packs from the SLA report and the catalog.",
    "notify": "Tell each party what it must hear, by e-mail and webhooks, each message once.",
    "docs": "The static HTML service catalog.",
    "graph": "The dependency graph of services, their suppliers and resource pools.",
    "providers": "Provider plugins (entry-point group spo_gitops.providers) and their resource "
    "types.",
    "state": "Inspect the state: managed resources, the journal of applies, the lock.",
    "plan": "Show (and save) what apply would change to make the providers match the catalog.",
    "apply": "Carry out a saved plan exactly (refusing a stale or altered one).",
    "reconcile": "Plan and apply in one step, for an approved commit (what a merge to main runs).",
    "drift": "Compare the providers with the last applied state; exit 2 when something drifted.",
    "show": "Print a saved plan (text, markdown or json), refusing one that was altered.",
    "portfolio": "Portfolio decisions: money, stages, lead times, run budget, risks.",
    "capacity": "Resource pool capacity over time.",
    "export": "Export the catalog into the formats of other tools.",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``spo --help``, from SUMMARIES: nothing is imported for it."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            summary = SUMMARIES.get(name)
            # a stand-in with the same help shortens it as click shortens the real one's
            command = (
                self.get_command(ctx, name)
                if summary is None
                else click.Command(name, help=summary)
            )
            rows.append((name, command.get_short_help_str(limit) if command else ""))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return add_common_options(command)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="spo")
@click.option(
    "-C",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run as if started in this directory.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Path to spo.yaml (default: found upwards from the working directory).",
)
@click.option("-q", "--quiet", count=True, help="Only results and errors on stderr: no progress.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr; repeat for more.")
@click.pass_context
def cli(
    ctx: click.Context, directory: Path | None, config_file: Path | None, quiet: int, verbose: int
) -> None:
    """spo-gitops: the service portfolio as versioned, validated YAML in git.

    Exit codes: 0 success, 1 findings of error severity or a failed operation, 2 changes present
    (with --detailed-exitcode), 64 usage error, 70 internal error, 130 interrupted.
    """
    if directory is not None:
        if not directory.is_dir():
            raise click.BadParameter(f"{directory} is not a directory", param_hint="-C")
        os.chdir(directory)
    ctx.obj = {"config_file": config_file}
    ctx.meta[VERBOSITY] = verbose - quiet


cli.params.append(no_color_option())  # spo --no-color CMD, as well as spo CMD --no-color


def _bug_report(exc: BaseException) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spo-gitops"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.gettempdir())
    import platform  # only a bug report names the platform

    log = base / "spo.log"
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"### {dt.datetime.now(dt.UTC).isoformat()} spo {__version__}\n")
        fh.write(f"argv: {sys.argv!r}\npython: {sys.version}\nplatform: {platform.platform()}\n")
        fh.write(scrub("".join(traceback.format_exception(exc))))
        fh.write("\n")
    return log


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI and map every outcome to a documented exit code."""
    cwd = os.getcwd()  # -C changes directory for one invocation only
    heap.short_lived()
    try:
        code = cli.main(args=argv, prog_name="spo", standalone_mode=False)
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.UsageError as e:
        e.show()
        code = EXIT_USAGE
    except click.ClickException as e:
        e.show()
        code = EXIT_FINDINGS
    except SpoError as e:  # each class carries its exit code: 1, or 64 for usage errors
        click.echo(scrub(f"spo: {e.label}: {e.message}"), err=True)
        if e.hint:
            click.echo(scrub(f"  hint: {e.hint}"), err=True)
        code = e.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo("spo: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except Exception as e:  # the one place where anything unexpected is caught
        log = _bug_report(e)
        click.echo(scrub(f"spo: internal error: {type(e).__name__}: {e}"), err=True)
        click.echo(
            f"  a bug report log was written to {log}; please attach it to an issue", err=True
        )
        code = EXIT_INTERNAL
    finally:
        os.chdir(cwd)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def entry() -> NoReturn:
    """The ``spo`` executable: :func:`main`, then leave at once. Whatever the command built (a
    validated catalog is about a million objects) would otherwise be freed object by object on
    the way out, about 0.15 s for 10,000 documents; every command has finished with its files,
    connections and threads when it returns, and only the standard streams still need a flush."""
    try:
        main()
        code = EXIT_OK
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else EXIT_OK if e.code is None else EXIT_FINDINGS
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (spo validate | head) has nothing more to hear
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
