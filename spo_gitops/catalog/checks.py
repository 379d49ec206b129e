"""Checks of one document beyond its schema: RACI rules and process roles, SLA sanity,
durations, thresholds; and the process roles of SPIs against the catalog's parties
(:func:`process_roles`, one of the catalog-wide checks)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Index
from spo_gitops.catalog.references import _walk
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models import (
    ResourcePool,
    ServiceLevelAgreement,
    ServiceModel,
    ServiceProviderInterface,
    metrics,
)
from spo_gitops.models.kinds import Activity, Objective, Process
from spo_gitops.sla.hours import HoursError, parse_hours, zone

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
    if not service.spec.provisioning:
        return  # nothing to check, nor the providers' modules to import
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


# Where an SPI names the roles of its processes. Each holder is a Party or a member one lists
# (spec.members): not a reference to an entity, but review/changed.py follows them so that a change
# to a Party's members re-checks the SPIs that name its members.
ROLES: dict[str, tuple[str, ...]] = {
    "owner": ("spec", "processes", "*", "owner"),
    "manager": ("spec", "processes", "*", "managers", "*"),
    "practitioner": ("spec", "processes", "*", "practitioners", "*"),
}


def _accountable(activity: Activity) -> list[str]:
    return [party for party, roles in activity.raci.items() if "A" in roles]


def _label(process: Process, activity: Activity) -> str:
    return f"{process.process} / {activity.activity!r}"


def _spi(doc: Document, spi: ServiceProviderInterface) -> Iterator[Diagnostic]:
    for p, process in enumerate(spi.spec.processes):
        if process.owner is None:
            yield doc.diag(
                "SPO422",
                f"{process.process} process has no owner",
                ["spec", "processes", p],
                hint="add owner: the Party, or a member of it, accountable for the process "
                "across the organisation (the Accountable of its activities)",
            )
        for a, activity in enumerate(process.activities):
            where: list[str | int] = ["spec", "processes", p, "activities", a]
            accountable = _accountable(activity)
            responsible = [party for party, roles in activity.raci.items() if "R" in roles]
            label = _label(process, activity)
            for party, roles in activity.raci.items():
                repeated = sorted({r for r in roles if roles.count(r) > 1}, key="RACI".index)
                if repeated:
                    yield doc.diag(
                        "SPO410",
                        f"{label}: {party} is given {', '.join(repeated)} more than once "
                        f"({roles!r})",
                        [*where, "raci", party],
                        hint="write each of R, A, C, I at most once per party, e.g. 'AR'",
                    )
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


def process_roles(docs: Iterable[Document], index: Index) -> Iterator[Diagnostic]:
    """The roles of each SPI process against the parties of the catalog: every owner, manager and
    practitioner is a Party or a member one lists (SPO424), and wherever an activity of the
    process gives an A, the Accountable is the owner or a Party the owner is a member of
    (SPO423). An activity without exactly one A is SPO401's, an Accountable that is no Party
    SPO302's, a missing owner SPO422's."""
    for doc in docs:
        # the kind first: asking another document for its model would build it for nothing
        spi = doc.model if doc.kind == "ServiceProviderInterface" else None
        if not isinstance(spi, ServiceProviderInterface):
            continue
        for role, path in ROLES.items():
            for where, value, _key in _walk(doc.data, path):
                if isinstance(value, str) and not index.is_party_or_member(value):
                    name = spi.spec.processes[int(where[2])].process
                    close = difflib.get_close_matches(value, index.party_and_member_names(), n=1)
                    yield doc.diag(
                        "SPO424",
                        f"{name} process {role} {value!r} is neither a Party nor a member of one",
                        list(where),
                        hint=(f"did you mean {close[0]}? " if close else "")
                        + "name a Party, or a member listed in a Party's spec.members",
                    )
        for p, process in enumerate(spi.spec.processes):
            owner = process.owner
            if owner is None or not index.is_party_or_member(owner):
                continue
            for a, activity in enumerate(process.activities):
                accountable = _accountable(activity)
                if len(accountable) != 1 or index.get("Party", accountable[0]) is None:
                    continue  # SPO401's, or SPO302's
                party = accountable[0]
                if index.is_member(owner, party):
                    continue
                own = index.parties_of(owner) or [owner]
                yield doc.diag(
                    "SPO423",
                    f"{_label(process, activity)}: the Accountable is {party}, not the process "
                    f"owner {owner} nor a Party {owner} is a member of",
                    ["spec", "processes", p, "activities", a, "raci", party],
                    hint=f"the owner stays accountable: give 'A' to {' or '.join(own)} (and "
                    f"'R' to {party} if it does the work), or choose an owner who is {party} or "
                    "one of its members",
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
    try:
        parse_hours(spec.window.hours)
    except HoursError as e:
        yield doc.diag(
            "SPO420",
            f"service hours {spec.window.hours!r} do not parse: {e.message}",
            ["spec", "window", "hours"],
            hint="write 24x7, or days and windows such as 'Mon-Fri 08:00-18:00; Sat 09:00-13:00'"
            " (docs/rules.md)",
        )
    try:
        zone(spec.window.timezone)
    except HoursError as e:
        yield doc.diag(
            "SPO421",
            e.message,
            ["spec", "window", "timezone"],
            hint="use an IANA time zone name such as Europe/London or America/New_York",
        )
    for i, objective in enumerate(spec.objectives):
        yield from _objective(doc, objective, ["spec", "objectives", i])


def _objective(doc: Document, objective: Objective, where: list[str | int]) -> Iterator[Diagnostic]:
    """An objective against the metric registry: its unit, its direction, its target's range."""
    name, unit = objective.metric, objective.unit
    known = metrics.metric(name)
    if known is not None and unit not in known.family.factors:
        yield doc.diag(
            "SPO408",
            f"{name} cannot be measured in {unit!r}",
            [*where, "unit"],
            hint=f"{name} is a {known.family.name}: use one of " + ", ".join(known.family.factors),
        )
        return
    if known is not None and objective.direction not in (None, known.direction):
        yield doc.diag(
            "SPO411",
            f"{name} is {known.direction}; an objective cannot declare {objective.direction}",
            [*where, "direction"],
            hint="remove direction: a metric of the registry has its own (docs/rules.md)",
        )
    if known is None and objective.direction is None:
        yield doc.diag(
            "SPO412",
            f"custom metric {name!r} does not say whether a higher value is better",
            [*where, "metric"],
            hint="add direction: higher-is-better or lower-is-better, or use a metric of the "
            "registry: " + ", ".join(metrics.METRICS),
        )
    reason = metrics.out_of_range(name, unit, objective.target, target=True)
    if reason is None:
        return
    bounded = reason.startswith("outside")  # a range with both ends: percent, NPS
    yield doc.diag(
        "SPO403" if bounded else "SPO404",
        f"{name} target {objective.target:g} {unit} is {reason}",
        [*where, "target"],
        hint=f"a {name} target lies in {metrics.describe_range(name, unit)}"
        if bounded
        else "a time target must be greater than zero"
        if reason == "not positive"
        else "a target cannot be negative",
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
