"""``spo metrics pull``: measured values from where they live, into the metrics file."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import emit, project_from
from spo_gitops.cli.sla_cmd import show_diagnostics
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.sla.pull.common import Value, dedupe, diag, render_metrics
from spo_gitops.sla.pull.incidents import PROFILES, incident_values, read_incidents
from spo_gitops.sla.pull.surveys import read_surveys, survey_values

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group()
def metrics() -> None:
    """Measured values for spo sla report, pulled from monitoring, the service desk, surveys."""


def _read(path: Path, shown: str, found: list[Diagnostic]) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        found.append(diag("SPO830", f"cannot read {shown}: {reason}", shown, 1))
        return None


@metrics.command("pull")
@click.option("--incidents", multiple=True, type=_FILE, help="Incident export (CSV or JSON lines).")
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="generic",
    show_default=True,
    help="Column layout of the incident exports.",
)
@click.option("--surveys", multiple=True, type=_FILE, help="Survey responses (CSV or JSON lines).")
@click.option(
    "--prometheus",
    "prometheus_url",
    metavar="URL",
    help="Evaluate the objectives' PromQL on this server (default: spo.yaml "
    "metrics.prometheus.url, when it is set).",
)
@click.option(
    "--period",
    "periods",
    multiple=True,
    help="Prometheus: the periods to evaluate (YYYY-MM, YYYY-Qn, YYYY; repeatable). Default: "
    "every complete period of each SLA's validity.",
)
@click.option("-o", "--output", type=_FILE, help="Write the metrics file here (default: stdout).")
@click.pass_context
def pull(
    ctx: click.Context,
    incidents: tuple[Path, ...],
    profile: str,
    surveys: tuple[Path, ...],
    prometheus_url: str | None,
    periods: tuple[str, ...],
    output: Path | None,
) -> int:
    """Write the metrics file that spo sla report reads (service,metric,priority,period,value,
    unit): MTTR, first-contact resolution and counts from incident exports, CSAT and NPS from
    surveys, and what the objectives' PromQL measures in Prometheus. Bad records are reported at
    file:line and skipped (exit 1)."""
    project = project_from(ctx)
    index = run_validate(project).index
    found: list[Diagnostic] = []
    values: list[Value] = []
    sources: list[str] = []
    for path in incidents:
        shown = project.display(path.absolute())
        text = _read(path, shown, found)
        if text is None:
            continue
        records, bad = read_incidents(text, shown, index, profile)  # type: ignore[arg-type]
        found.extend(bad)
        got, bad = incident_values(records, index)
        found.extend(bad)
        values.extend(got)
        sources.append(f"{shown} ({profile} incident export)")
    for path in surveys:
        shown = project.display(path.absolute())
        text = _read(path, shown, found)
        if text is None:
            continue
        responses, bad = read_surveys(text, shown, index)
        found.extend(bad)
        values.extend(survey_values(responses, index))
        sources.append(f"{shown} (survey)")
    if prometheus_url or project.config.metrics.prometheus.url:
        from spo_gitops.sla.pull.prometheus import pull_prometheus

        got, bad, source = pull_prometheus(project, index, prometheus_url, periods)
        values.extend(got)
        found.extend(bad)
        sources.append(source)
    show_diagnostics(sorted(found, key=Diagnostic.sort_key))
    emit(render_metrics(dedupe(values), sources), output)
    click.echo(f"spo: {len(set(dedupe(values)))} values from {len(sources)} source(s)", err=True)
    return 1 if any(d.severity == "error" for d in found) else 0
