"""The core install: what works without the extras, what a missing extra says, what start-up
imports.

Each run is a fresh interpreter, so that ``sys.modules`` tells what a command imported. A missing
extra is simulated by putting ``None`` into ``sys.modules`` for its modules before anything is
imported: Python then raises the same ``ModuleNotFoundError`` an uninstalled package does.
(``benchmarks/install.py`` installs the core for real into a fresh virtualenv.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib.metadata import packages_distributions
from pathlib import Path

import click
import pytest

from spo_gitops.cli.main import COMMANDS, SUMMARIES, cli
from spo_gitops.extras import EXTRA_OF

REPO = Path(__file__).resolve().parents[2]
OPTIONAL = ("matplotlib", "psycopg", "requests", "urllib3", "boto3", "botocore")
# nothing of this is needed to print the help or the version
HEAVY = (
    "cel",
    "matplotlib",
    "numpy",
    "psycopg",
    "requests",
    "boto3",
    "botocore",
    "pydantic",
    "jsonschema_rs",
    "yaml",
    "ruamel",
    "git",
    "jinja2",
    "rich",
    "tenacity",
)

_RUN = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None
from spo_gitops.cli.main import main
code = 0
try:
    main({argv!r})
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
sys.stdout.flush()
loaded = sorted(k for k, v in sys.modules.items() if v is not None)
print("\\n@@" + json.dumps({{"code": code, "modules": loaded}}))
"""


def spo(
    argv: list[str], cwd: Path, blocked: tuple[str, ...] = ()
) -> tuple[int, str, str, set[str]]:
    """Run spo in a fresh interpreter: exit code, stdout, stderr, the top-level modules loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN.format(blocked=blocked, argv=argv)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
        timeout=300,
    )
    out, _, tail = done.stdout.rpartition("\n@@")
    assert tail, done.stdout[-2000:] + done.stderr[-2000:]
    info = json.loads(tail)
    modules = {m.partition(".")[0] for m in info["modules"] if m}
    return info["code"], out, done.stderr, modules


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A copy of the reference catalog (plan and apply write into .spo/ beside spo.yaml)."""
    for name in ("spo.yaml", "catalog", "policies", "blueprints"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_nothing_heavy(argv: list[str], tmp_path: Path) -> None:
    code, out, _, modules = spo(argv, tmp_path)
    assert code == 0
    assert out.strip()
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_help_lists_every_command(tmp_path: Path) -> None:
    _, out, _, _ = spo(["--help"], tmp_path)
    listed = {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)


def test_command_summaries_are_the_commands_own() -> None:
    """`spo --help` prints SUMMARIES instead of importing each command: they must agree."""
    ctx = click.Context(cli)
    assert set(SUMMARIES) >= set(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        assert SUMMARIES[name] == command.get_short_help_str(limit=1000), name


def test_the_cel_library_is_imported_only_when_a_policy_runs(catalog: Path) -> None:
    code, _, _, modules = spo(["validate"], catalog)
    assert code == 0
    assert "cel" in modules  # the reference catalog has policies: the Rust extension is loaded
    assert "prompt_toolkit" not in modules  # and not the CLI that `import cel` would bring
    shutil.rmtree(catalog / "policies")
    (catalog / "policies").mkdir()
    code, _, err, modules = spo(["validate"], catalog)
    assert code == 0, err
    assert "cel" not in modules
    code, _, _, modules = spo(["schema", "show", "Party"], catalog)
    assert code == 0
    assert "cel" not in modules


def test_the_core_works_without_any_extra(catalog: Path) -> None:
    """The quick start's main job, and the JSON reports, with every optional module missing."""
    runs = [
        ["validate"],
        ["validate", "--format", "json"],
        ["plan", "-o", ".spo/plan.json"],
        ["apply", ".spo/plan.json", "--auto-approve"],
        ["plan", "--detailed-exitcode"],
        ["state", "list", "--format", "json"],
        ["providers", "list"],
    ]
    for argv in runs:
        code, _, err, modules = spo(argv, catalog, blocked=OPTIONAL)
        assert code == 0, (argv, err[-2000:])
        assert "Traceback" not in err
        assert not modules & {"matplotlib", "psycopg", "requests", "boto3"}
    state = json.loads(spo(["state", "list", "--format", "json"], catalog, OPTIONAL)[1])
    addresses = {r["address"] for r in state["resources"]}
    assert "cmdb.service.internet-banking" in addresses
    assert any(a.startswith("files.file.") for a in addresses)
    assert (catalog / ".spo" / "artifacts" / "runbooks" / "payments-hub.md").is_file()


def _postgres_state(catalog: Path) -> None:
    with (catalog / "spo.yaml").open("a") as fh:
        fh.write("state:\n  backend: postgres\n  dsn: postgresql://spo@127.0.0.1:9/spo\n")


@pytest.mark.parametrize(
    ("extra", "argv", "setup"),
    [
        (
            "charts",
            [
                "sla",
                "report",
                "--metrics",
                str(REPO / "examples/metrics/northwind-2026.csv"),
                *("--format", "markdown", "-o", "report.md", "--chart-format", "png"),
            ],
            None,
        ),
        ("postgres", ["state", "list"], _postgres_state),
        ("http", ["providers", "schema", "http"], None),
    ],
)
def test_a_missing_extra_is_named(
    extra: str, argv: list[str], setup: Callable[[Path], None] | None, catalog: Path
) -> None:
    if setup:
        setup(catalog)
    code, out, err, _ = spo(argv, catalog, blocked=OPTIONAL)
    assert code == 1, err
    assert f"pip install 'spo-gitops[{extra}]'" in err
    assert "Traceback" not in err
    assert not out.strip()  # nothing half-printed before the error
    assert not (catalog / "report.md").exists()


def test_the_aws_provider_names_its_extra(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "for m in ('boto3', 'botocore'):\n"
        "    sys.modules[m] = None\n"
        "from spo_gitops.errors import MissingExtraError\n"
        "from spo_gitops.providers.aws import AwsProvider, AwsSettings\n"
        "from pathlib import Path\n"
        "from spo_gitops.providers.base import ProviderContext\n"
        "root = Path(sys.argv[1])\n"
        "try:\n"
        "    AwsProvider(AwsSettings(), ProviderContext(project_root=root, state_dir=root))\n"
        "except MissingExtraError as e:\n"
        "    print(e.extra, e.hint)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "aws pip install 'spo-gitops[aws]'", done.stderr[-2000:]


def test_the_extras_table_matches_pyproject() -> None:
    """EXTRA_OF names, for each optional library's module, the extra pyproject.toml lists it in."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    modules_of: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            modules_of.setdefault(dist.lower(), set()).add(module)
    checked = 0
    for extra in ("charts", "postgres", "http", "aws"):
        for requirement in extras[extra]:
            dist = requirement.split("[")[0].split(">")[0].split("=")[0].strip().lower()
            # the distribution's own module (boto3, psycopg, ...) is guarded under this extra
            assert EXTRA_OF.get(dist.replace("-", "_")) == extra, (dist, extra)
            assert dist.replace("-", "_") in modules_of[dist]
            checked += 1
    (everything,) = extras["all"]
    assert set(everything.partition("[")[2].rstrip("]").split(",")) == {
        "charts",
        "postgres",
        "http",
        "aws",
    }
    assert checked >= 4


def test_jinja2_is_imported_only_for_a_catalog_with_blueprints(catalog: Path) -> None:
    code, _, err, modules = spo(["plan"], catalog)
    assert code == 0, err
    assert "jinja2" in modules  # the reference catalog renders blueprints
    shutil.rmtree(catalog / "blueprints")
    code, _, err, modules = spo(["plan"], catalog)
    assert code == 0, err
    assert "jinja2" not in modules
