"""Findings: one record per problem, with its place in the source."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Stable codes. Never reuse or renumber one; add new ones at the end of their block.
CODES: dict[str, str] = {
    # 1xx: reading and parsing files
    "SPO100": "file cannot be read",
    "SPO101": "YAML syntax error",
    "SPO102": "tab character used for indentation",
    "SPO103": "duplicate mapping key",
    "SPO104": "file is not valid UTF-8",
    "SPO105": "NUL byte in file",
    "SPO106": "document is not a mapping",
    "SPO107": "tag not allowed",
    "SPO108": "alias or merge expansion exceeds the limit",
    "SPO109": "nesting deeper than the limit",
    "SPO110": "file larger than the limit",
    "SPO111": "mapping key is not a string",
    "SPO112": "empty document",
    "SPO113": "value not representable in JSON",
    # 2xx: envelope and schema
    "SPO201": "apiVersion or kind missing",
    "SPO202": "unknown apiVersion",
    "SPO203": "unknown kind",
    "SPO204": "schema violation",
    # 3xx: names and references
    "SPO301": "duplicate name",
    "SPO302": "reference does not resolve",
    "SPO303": "reference to an entity of the wrong kind or type",
    "SPO304": "dependency cycle",
    "SPO305": "reference uses an unknown kind prefix",
    "SPO306": "service has more than one portfolio entry",
    "SPO307": "service has no portfolio entry",
    "SPO308": "underpinning contract names no supplier",
    "SPO309": "underpinning contract not covered by its supplier's SPI",
    # 4xx: semantic checks
    "SPO401": "RACI activity without exactly one Accountable",
    "SPO402": "RACI activity without a Responsible",
    "SPO403": "target outside its metric's range (percent 0-100, NPS -100..100)",
    "SPO404": "duration or quantity not positive",
    "SPO405": "validity starts after it ends",
    "SPO406": "invalid semantic version",
    "SPO407": "date is not a valid calendar date",
    "SPO408": "unit does not fit the metric",
    "SPO409": "utilization thresholds inverted",
    "SPO410": "RACI role letter given more than once to a party",
    "SPO411": "objective overrides the direction of a registry metric",
    "SPO412": "custom metric without a direction",
    "SPO413": "active agreement whose validity has ended",
    "SPO414": "agreement expires soon",
    "SPO415": "service review overdue",
    "SPO416": "stage reached without its approval record",
    "SPO417": "approvals dated out of stage order",
    "SPO418": "approval dated after the validation date",
    "SPO419": "SLA target not backed by the underpinning agreements of its dependencies",
    "SPO420": "service hours do not parse",
    "SPO421": "unknown time zone",
    "SPO422": "SPI process without an owner",
    "SPO423": "SPI process owner is not the Accountable of its activities",
    "SPO424": "SPI process role held by neither a Party nor a member of one",
    "SPO425": "approver is not a Party or a member of one",
    "SPO426": "approver is a supplier or customer, not a board or team of the organisation",
    # 6xx: changes between revisions (spo diff): versioning and lifecycle
    "SPO601": "spec changed without a version bump",
    "SPO602": "version lowered",
    "SPO603": "breaking change without a major version bump",
    "SPO604": "portfolio stage transition not allowed",
    "SPO605": "portfolio stage entered without its approval record",
    "SPO606": "service retired while live services depend on it",
    "SPO607": "new portfolio entry starts in a stage not allowed for new entries",
    "SPO608": "owner has no code-host handle for CODEOWNERS",
    # 5xx: policies and resource allocation (a Policy's own findings carry its spec.code)
    "SPO501": "policy expression does not compile",
    "SPO502": "policy expression failed on an entity",
    "SPO503": "policy waiver expired",
    "SPO504": "resource pool overbooked",
    "SPO505": "resource pool underused",
    "SPO506": "resource pool near capacity",
    "SPO507": "resource pool overbooked when the pipeline goes live",
    # 7xx: desired resources (compile)
    "SPO701": "two entities produce the same resource address",
    "SPO702": "resource depends on an address that is not desired",
    "SPO703": "resource dependency cycle",
    "SPO704": "blueprint syntax error",
    "SPO705": "blueprint failed to render",
    "SPO706": "blueprint output is not a list of resources",
    "SPO707": "unknown provider or resource type",
    "SPO708": "resource properties do not match the provider's schema",
    # 8xx: measured service levels (spo sla report)
    "SPO801": "metrics file cannot be read or lacks a column",
    "SPO802": "metric row names an unknown service",
    "SPO803": "metric not agreed in any SLA of the service",
    "SPO804": "metric value is not a number in range",
    "SPO805": "metric unit differs from the objective's",
    "SPO806": "metric period badly written or outside the agreement",
    "SPO807": "metric measured twice for the same period",
    "SPO820": "improvement plan dates out of order",
    "SPO821": "improvement plan closure missing or contradicting its status",
    "SPO822": "improvement plan names no trigger",
    "SPO823": "improvement plan trigger is not an objective of the service's SLAs",
    "SPO824": "improvement plan action overdue",
    "SPO825": "flagged objective without an open improvement plan",
    "SPO826": "open improvement plan can close",
    "SPO830": "metrics source cannot be read or lacks a column",
    "SPO831": "metrics source record badly written",
    "SPO832": "metrics source record names an unknown service",
    "SPO833": "incident resolved before it was opened",
    "SPO834": "incident given twice",
    "SPO835": "Prometheus query failed or returned more than one series",
    # 10xx: portfolio decisions: roadmap, run budget, risks
    "SPO1001": "planned stage date passed without the stage being reached (slipped)",
    "SPO1002": "planned stage dates out of stage order",
    "SPO1003": "annual cost disagrees with the run budget allocation",
    "SPO1004": "tier-1 live service without a reviewed risk",
    "SPO1005": "supplier underpins more tier-1 services than allowed",
    "SPO1006": "risk review overdue",
    # 9xx: project configuration
    "SPO901": "invalid project configuration",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    entity: str | None = None  # "Kind:name"
    pointer: str | None = None  # JSON pointer inside the document
    hint: str | None = None
    waived: str | None = None  # reason, when a waiver accepts this finding

    def location(self) -> str:
        if self.file is None:
            return "<catalog>"
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column or 1}"

    def with_(self, **changes: object) -> Diagnostic:
        return replace(self, **changes)  # type: ignore[arg-type]

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.code)


@dataclass
class Findings:
    """An ordered collection of diagnostics with counts by severity."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)

    def counts(self) -> dict[str, int]:
        c = Counter(d.severity for d in self.items if d.waived is None)
        out: dict[str, int] = {s: c.get(s, 0) for s in SEVERITIES}
        out["waived"] = sum(1 for d in self.items if d.waived is not None)
        return out

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" and d.waived is None for d in self.items)


def pointer_join(parts: Iterable[str | int]) -> str:
    """RFC 6901 pointer from path parts."""
    out = []
    for p in parts:
        out.append("/" + str(p).replace("~", "~0").replace("/", "~1"))
    return "".join(out)


def pointer_split(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
