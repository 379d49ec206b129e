"""Checks of one document beyond its schema: RACI rules, SLA sanity, durations, thresholds."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from spo_gitops.catalog.documents import Document
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models import (
    ResourcePool,
    ServiceLevelAgreement,
    ServiceModel,
    ServiceProviderInterface,
)

DURATION_UNITS = {"ms", "s", "min", "h", "d"}
# Known metrics and the units they may be stated in.
METRIC_UNITS: dict[str, set[str]] = {
    "availability": {"percent"},
    "first-contact-resolution": {"percent"},
    "customer-satisfaction": {"percent"},
    "change-success-rate": {"percent"},
    "mttr": DURATION_UNITS,
    "mtrs": DURATION_UNITS,
    "response-time": DURATION_UNITS,
    "resolution-time": DURATION_UNITS,
    "time-to-fulfil": DURATION_UNITS,
}
_DURATION_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> float:
    """Seconds in a duration such as ``4h`` or ``30m`` (schema-checked beforehand)."""
    match = _DURATION_RE.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def document_checks(
    doc: Document, providers: Mapping[str, Mapping[str, Any] | None] | None = None
) -> list[Diagnostic]:
    """``providers``: spo.yaml's settings per provider, for the resource types they configure."""
    model = doc.model
    if isinstance(model, ServiceModel):
        return list(_provisioning(doc, model, providers or {}))
    if isinstance(model, ServiceProviderInterface):
        return list(_spi(doc, model))
    if isinstance(model, ServiceLevelAgreement):
        return list(_sla(doc, model))
    if isinstance(model, ResourcePool):
        return list(_pool(doc, model))
    return []


def _provisioning(
    doc: Document, service: ServiceModel, providers: Mapping[str, Mapping[str, Any] | None]
) -> Iterator[Diagnostic]:
    """Each spec.provisioning entry against its provider's schema for the resource type."""
    from spo_gitops.providers.registry import check_properties

    for i, entry in enumerate(service.spec.provisioning):
        where: list[str | int] = ["spec", "provisioning", i]
        if entry.provider in providers and providers[entry.provider] is None:
            continue  # its settings are wrong: reported at spo.yaml
        settings = providers.get(entry.provider) or {}
        for path, message in check_properties(
            entry.provider, entry.type, entry.properties, settings
        ):
            if not path:  # unknown provider or type: point at the entry's provider/type
                yield doc.diag(
                    "SPO707",
                    message,
                    [*where, "type" if "type" in message else "provider"],
                    hint="spo providers list shows the providers and their resource types",
                )
                break
            yield doc.diag(
                "SPO708",
                f"{entry.provider}.{entry.type} properties{'/' + '/'.join(path)}: {message}",
                [*where, "properties", *path],
                key=message.startswith("unknown property"),
                hint=f"spo providers schema {entry.provider} {entry.type} shows what it takes",
            )


def _spi(doc: Document, spi: ServiceProviderInterface) -> Iterator[Diagnostic]:
    for p, process in enumerate(spi.spec.processes):
        for a, activity in enumerate(process.activities):
            where: list[str | int] = ["spec", "processes", p, "activities", a]
            accountable = [party for party, roles in activity.raci.items() if "A" in roles]
            responsible = [party for party, roles in activity.raci.items() if "R" in roles]
            label = f"{process.process} / {activity.activity!r}"
            if len(accountable) != 1:
                found = ", ".join(accountable) if accountable else "none"
                yield doc.diag(
                    "SPO401",
                    f"{label} needs exactly one Accountable party, found {found}",
                    [*where, "raci"],
                    hint="give 'A' to exactly one party: accountability cannot be shared",
                )
            if not responsible:
                yield doc.diag(
                    "SPO402",
                    f"{label} has no Responsible party",
                    [*where, "raci"],
                    hint="give 'R' to the party that does the work",
                )
    for e, level in enumerate(spi.spec.escalation):
        if duration_seconds(level.after) <= 0:
            yield doc.diag(
                "SPO404",
                f"escalation after {level.after!r} is not a positive duration",
                ["spec", "escalation", e, "after"],
            )


def _sla(doc: Document, sla: ServiceLevelAgreement) -> Iterator[Diagnostic]:
    spec = sla.spec
    if spec.validity.start >= spec.validity.end:
        yield doc.diag(
            "SPO405",
            f"validity starts {spec.validity.start} but ends {spec.validity.end}",
            ["spec", "validity", "end"],
            hint="the end date must come after the start date",
        )
    for i, objective in enumerate(spec.objectives):
        where: list[str | int] = ["spec", "objectives", i]
        allowed = METRIC_UNITS.get(objective.metric)
        if allowed is not None and objective.unit not in allowed:
            yield doc.diag(
                "SPO408",
                f"{objective.metric} cannot be measured in {objective.unit!r}",
                [*where, "unit"],
                hint="use one of: " + ", ".join(sorted(allowed)),
            )
        if objective.unit == "percent" and not 0 <= objective.target <= 100:
            yield doc.diag(
                "SPO403",
                f"{objective.metric} target {objective.target:g} % is outside 0-100",
                [*where, "target"],
                hint="a percentage lies between 0 and 100",
            )
        elif objective.unit in DURATION_UNITS and objective.target <= 0:
            yield doc.diag(
                "SPO404",
                f"{objective.metric} target {objective.target:g} {objective.unit} is not positive",
                [*where, "target"],
                hint="a time objective must be greater than zero",
            )
        elif objective.unit == "count" and objective.target < 0:
            yield doc.diag(
                "SPO404",
                f"{objective.metric} target {objective.target:g} is negative",
                [*where, "target"],
            )


def _pool(doc: Document, pool: ResourcePool) -> Iterator[Diagnostic]:
    thresholds = pool.spec.thresholds
    if thresholds.low >= thresholds.high:
        yield doc.diag(
            "SPO409",
            f"low threshold {thresholds.low:g} % is not below high threshold {thresholds.high:g} %",
            ["spec", "thresholds", "low"],
            hint="low marks underuse and high marks near capacity: low must be the smaller",
        )
