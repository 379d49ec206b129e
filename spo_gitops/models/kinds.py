"""The document kinds. These models are the source of truth; schemas/ is generated from them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from spo_gitops.models.calendar import HolidayCalendar
from spo_gitops.models.common import (
    REF_PATTERN,
    Cadence,
    Duration,
    Metadata,
    Model,
    Name,
    PartyMetadata,
    PartyType,
    Percent,
    Stage,
)
from spo_gitops.models.improvement import ImprovementPlan
from spo_gitops.models.metrics import METRICS, UNITS
from spo_gitops.models.risk import Risk

ApiVersion = Literal["spo/v1"]
if TYPE_CHECKING:
    Unit = str
else:
    Unit = Literal[UNITS]  # the units of the metric registry (models/metrics.py)
_API = Field(alias="apiVersion", description="Version of the document format: spo/v1.")


# --- Party -------------------------------------------------------------------------------------


class Contact(Model):
    name: str = Field(description="Person or function to contact.")
    email: str | None = Field(default=None, description="E-mail address.")
    phone: str | None = Field(default=None, description="Phone number, international format.")
    role: str | None = Field(default=None, description="Role, e.g. service owner, account manager.")


class PartySpec(Model):
    type: PartyType = Field(
        description="team: an internal team; board: an internal decision body (portfolio "
        "board, change advisory board, ...) that approves stages; supplier: an external "
        "provider; customer: who receives the services."
    )
    handle: str | None = Field(
        default=None,
        pattern=r"^@[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$",
        description="Code-host handle of a team (e.g. @acme/payments), for CODEOWNERS.",
    )
    contacts: list[Contact] = Field(default_factory=list, description="Who to contact.")
    members: list[str] = Field(
        default_factory=list,
        description="Members of a team or board: people's handles (e.g. daniel.okafor) or "
        "other parties' names.",
    )


class Party(Model):
    """A team, board, supplier or customer."""

    api_version: ApiVersion = _API
    kind: Literal["Party"]
    metadata: PartyMetadata
    spec: PartySpec


# --- ResourcePool ------------------------------------------------------------------------------


class Thresholds(Model):
    low: Percent = Field(default=20, description="Utilization below this is underuse (percent).")
    high: Percent = Field(default=85, description="Utilization above this is near capacity.")


class ResourcePoolSpec(Model):
    type: Literal["people", "infrastructure", "budget", "licence"] = Field(
        description="What the pool holds."
    )
    unit: str = Field(min_length=1, description="Unit of capacity, e.g. FTE, vCPU, EUR, seats.")
    capacity: float = Field(gt=0, description="Total capacity in units.")
    thresholds: Thresholds = Field(
        default_factory=Thresholds, description="Utilization thresholds, in percent."
    )
    provider: Name | None = Field(
        default=None, description="The party (team or supplier) that supplies the capacity."
    )


class ResourcePool(Model):
    """Capacity that services draw on: people, infrastructure or budget."""

    api_version: ApiVersion = _API
    kind: Literal["ResourcePool"]
    metadata: Metadata
    spec: ResourcePoolSpec


# --- ServiceModel ------------------------------------------------------------------------------


class Outcome(Model):
    name: str = Field(description="The outcome the service delivers, in the customer's words.")
    measure: str | None = Field(default=None, description="How the outcome is measured.")


class ResourceRequest(Model):
    pool: Name = Field(description="The ResourcePool drawn on.")
    quantity: float = Field(gt=0, description="Units drawn from the pool.")
    purpose: str | None = Field(default=None, description="What the resources are for.")


class ProvisioningEntry(Model):
    provider: Name = Field(description="Provider plugin that manages the resource (e.g. cmdb).")
    type: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="Resource type of that provider (e.g. service)."
    )
    name: Name | None = Field(
        default=None, description="Resource name; defaults to the entity's name."
    )
    properties: dict[str, Any] = Field(
        default_factory=dict, description="Properties, checked against the provider's schema."
    )
    depends_on: list[str] = Field(
        default_factory=list, description="Addresses (provider.type.name) created before this."
    )
    protected: bool = Field(default=False, description="Never delete this resource.")


class ServiceModelSpec(Model):
    type: Literal["business", "technical"] = Field(
        description="business: seen by customers; technical: supports other services."
    )
    tier: int = Field(ge=1, le=4, description="Criticality, 1 (most critical) to 4.")
    outcomes: list[Outcome] = Field(min_length=1, description="Outcomes the service delivers.")
    capabilities: list[str] = Field(
        default_factory=list, description="Capabilities the service needs or offers."
    )
    resources: list[ResourceRequest] = Field(
        default_factory=list, description="What the service draws from resource pools."
    )
    depends_on: list[Name] = Field(
        default_factory=list, description="Services (ServiceModel names) this one depends on."
    )
    suppliers: list[Name] = Field(
        default_factory=list, description="External suppliers (Party names) the service relies on."
    )
    provisioning: list[ProvisioningEntry] = Field(
        default_factory=list, description="Resources provisioned for the service."
    )


class ServiceModel(Model):
    """The blueprint of a service: outcomes, resources, dependencies, provisioning."""

    api_version: ApiVersion = _API
    kind: Literal["ServiceModel"]
    metadata: Metadata
    spec: ServiceModelSpec


# --- PortfolioEntry ----------------------------------------------------------------------------


class BusinessCase(Model):
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.")
    investment: float = Field(ge=0, description="One-off investment.")
    annual_cost: float = Field(ge=0, description="Yearly running cost.")
    annual_benefit: float = Field(ge=0, description="Yearly benefit.")
    horizon_years: int = Field(ge=1, le=30, description="Years the case is evaluated over.")


class Approval(Model):
    stage: Stage = Field(description="The stage this approval admits the service to.")
    approver: str = Field(
        min_length=1,
        description="Who approved: a Party of type board or team (e.g. change-advisory-board), "
        "or a member of one (a person's handle from its spec.members).",
    )
    date: dt.date = Field(description="When (YYYY-MM-DD).")
    reference: str | None = Field(default=None, description="Minutes, ticket or decision id.")


PlannedDate = Annotated[
    str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$|^[0-9]{4}-Q[1-4]$")
]


class PortfolioEntrySpec(Model):
    service: Name = Field(description="The ServiceModel this entry is about.")
    stage: Stage = Field(description="Where the service stands in its lifecycle.")
    domain: Name | None = Field(default=None, description="Business domain (portfolio grouping).")
    sponsor: str | None = Field(default=None, description="Business sponsor (a person).")
    business_case: BusinessCase | None = Field(default=None, description="The business case.")
    approvals: list[Approval] = Field(default_factory=list, description="Approval records.")
    plan: dict[Stage, PlannedDate] = Field(
        default_factory=dict,
        description="Roadmap: stage -> when it is planned to be reached: a day (2027-03-15), a "
        "month (2027-03) or a quarter (2027-Q3); due at the end of that period.",
    )


class PortfolioEntry(Model):
    """Where a service stands in the portfolio, and its business case."""

    api_version: ApiVersion = _API
    kind: Literal["PortfolioEntry"]
    metadata: Metadata
    spec: PortfolioEntrySpec


# --- ServiceProviderInterface ------------------------------------------------------------------


class Activity(Model):
    activity: str = Field(min_length=1, description="What is done at this integration point.")
    raci: dict[str, str] = Field(
        min_length=1,
        description="Party name -> its role letters: R(esponsible), A(ccountable), "
        "C(onsulted), I(nformed), e.g. 'A' or 'AR'.",
        json_schema_extra={
            "propertyNames": {"pattern": r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"},
            "additionalProperties": {"type": "string", "pattern": "^[RACI]{1,4}$"},
        },
    )


class Process(Model):
    process: Literal[
        "incident",
        "problem",
        "change",
        "request",
        "release",
        "capacity",
        "continuity",
        "security",
        "service-level",
        "supplier",
    ] = Field(description="The service management process.")
    owner: str | None = Field(
        default=None,
        min_length=1,
        description="Process owner, accountable for the process across the organisation: a Party "
        "or a member of one (e.g. daniel.okafor). Every Accountable of the process's activities "
        "is the owner or a Party the owner is a member of.",
    )
    managers: list[str] = Field(
        default_factory=list,
        description="Process managers, who run the process day to day: Parties or their members.",
    )
    practitioners: list[str] = Field(
        default_factory=list,
        description="Process practitioners, who carry out its activities: Parties or members.",
    )
    activities: list[Activity] = Field(min_length=1, description="Activities with their RACI.")


class Reporting(Model):
    cadence: Cadence = Field(description="How often reports are produced.")
    reports: list[str] = Field(default_factory=list, description="Reports produced.")


class EscalationLevel(Model):
    level: int = Field(ge=1, description="Escalation level, 1 first.")
    party: Name = Field(description="Party escalated to.")
    after: Duration = Field(description="Time without resolution before escalating.")


class SpiSpec(Model):
    provider: Name = Field(description="The party that provides at this interface.")
    consumers: list[Name] = Field(min_length=1, description="Parties that consume.")
    services: list[Name] = Field(min_length=1, description="Services covered (ServiceModel names).")
    processes: list[Process] = Field(min_length=1, description="Integration points with RACI.")
    reporting: Reporting | None = Field(default=None, description="Reporting across the interface.")
    escalation: list[EscalationLevel] = Field(default_factory=list, description="Escalation path.")


class ServiceProviderInterface(Model):
    """A formal reference point between a provider and its consumers or suppliers."""

    api_version: ApiVersion = _API
    kind: Literal["ServiceProviderInterface"]
    metadata: Metadata
    spec: SpiSpec


# --- ServiceLevelAgreement ---------------------------------------------------------------------


class Validity(Model):
    start: dt.date = Field(description="First day the agreement applies (YYYY-MM-DD).")
    end: dt.date = Field(description="Last day the agreement applies (YYYY-MM-DD).")


class Window(Model):
    hours: str = Field(description="Service hours, e.g. 24x7 or Mon-Fri 08:00-18:00.")
    timezone: str = Field(default="UTC", description="IANA time zone of the service hours.")
    calendar: Name | None = Field(
        default=None,
        description="HolidayCalendar whose days close the service hours (e.g. bank holidays).",
    )
    period: Literal["monthly", "quarterly", "yearly"] = Field(
        default="monthly", description="Measurement period for the objectives."
    )


class Objective(Model):
    metric: str = Field(
        pattern=r"^[a-z][a-z0-9-]*$",
        description="A metric of the registry (" + ", ".join(METRICS) + ") or a custom one.",
    )
    target: float = Field(description="Target value in the unit given.")
    unit: Unit = Field(description="Unit of the target.")
    priority: Literal["P1", "P2", "P3", "P4"] | None = Field(
        default=None, description="Incident priority the objective applies to."
    )
    direction: Literal["higher-is-better", "lower-is-better"] | None = Field(
        default=None,
        description="Whether a higher value is better: required for a custom metric; a metric "
        "of the registry has its own, which cannot be overridden.",
    )
    description: str | None = Field(default=None, description="What is measured, and how.")
    promql: str | None = Field(
        default=None,
        description="PromQL that measures the objective over a period, in the objective's unit "
        "(spo metrics pull; $service, $sla and $window are replaced). Default: spo.yaml "
        "metrics.prometheus.queries for the metric.",
    )


class Reviews(Model):
    cadence: Cadence = Field(description="How often the agreement is reviewed.")
    next: dt.date | None = Field(default=None, description="Date of the next review.")


class SlaSpec(Model):
    type: Literal["SLA", "OLA", "UC"] = Field(
        default="SLA",
        description="SLA: with a customer; OLA: between internal teams; UC: an underpinning "
        "contract with a supplier (the provider), under the supplier's SPI.",
    )
    service: Name = Field(description="The ServiceModel the agreement covers.")
    customer: Name = Field(
        description="Who receives the service: a customer Party (SLA) or a team (OLA, UC)."
    )
    provider: Name | None = Field(
        default=None,
        description="Who provides it, if not the owner: a team (SLA, OLA); the supplier (UC, "
        "required).",
    )
    status: Literal["draft", "active", "expired"] = Field(
        default="active", description="draft: under negotiation; active: in force."
    )
    validity: Validity = Field(description="When the agreement applies.")
    window: Window = Field(description="Service hours and measurement period.")
    objectives: list[Objective] = Field(min_length=1, description="The agreed service levels.")
    reviews: Reviews | None = Field(default=None, description="Service review schedule.")
    reporting: Reporting | None = Field(default=None, description="Service level reporting.")


class ServiceLevelAgreement(Model):
    """Agreed service levels for a customer."""

    api_version: ApiVersion = _API
    kind: Literal["ServiceLevelAgreement"]
    metadata: Metadata
    spec: SlaSpec


# --- Policy ------------------------------------------------------------------------------------


class Match(Model):
    kinds: list[
        Literal[
            "Party",
            "ServiceModel",
            "PortfolioEntry",
            "ServiceProviderInterface",
            "ServiceLevelAgreement",
            "ResourcePool",
            "Risk",
            "ImprovementPlan",
            "HolidayCalendar",
        ]
    ] = Field(min_length=1, description="Kinds the policy applies to.")
    labels: dict[str, str] = Field(default_factory=dict, description="Label selector (all match).")
    condition: str | None = Field(default=None, description="CEL condition over self.")


class Waiver(Model):
    entity: str = Field(pattern=REF_PATTERN, description="Kind:name of the entity waived.")
    reason: str = Field(min_length=1, description="Why the finding is accepted.")
    approver: str = Field(min_length=1, description="Who accepted it.")
    expires: dt.date = Field(description="Last day the waiver holds (YYYY-MM-DD).")


class PolicySpec(Model):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]*[0-9]{3}$", description="Stable finding code.")
    severity: Literal["error", "warning", "info"] = Field(description="Severity of a finding.")
    match: Match = Field(description="Which entities the policy checks.")
    assert_: str = Field(alias="assert", description="CEL expression over self; true passes.")
    message: str = Field(description="Finding message; {{ expr }} interpolates CEL values.")
    hint: str | None = Field(default=None, description="How to fix a finding.")
    waivers: list[Waiver] = Field(default_factory=list, description="Accepted findings.")


class Policy(Model):
    """A rule over the catalog, in CEL, with its waivers."""

    api_version: ApiVersion = _API
    kind: Literal["Policy"]
    metadata: Metadata
    spec: PolicySpec


KIND_MODELS: dict[str, type[Model]] = {
    m.__name__: m
    for m in (
        Party,
        ServiceModel,
        PortfolioEntry,
        ServiceProviderInterface,
        ServiceLevelAgreement,
        ResourcePool,
        Policy,
        ImprovementPlan,
        Risk,
        HolidayCalendar,
    )
}
