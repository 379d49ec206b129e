"""The metric registry as every stage reads it: document checks, versioning, the SLA report.

Expected values are worked out by hand from the rule (8 h = 480 min = 28,800 s; 2 d = 48 h).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.models import metrics
from spo_gitops.review.versioning import breaking_changes, bumped, parse_version
from spo_gitops.sla import report

HEAD = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: Party
metadata: {name: retail, version: 1.0.0}
spec: {type: customer}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec:
  type: business
  tier: 2
  outcomes: [{name: Customers pay}]
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec: {service: pay, stage: proposed}
"""


def sla_doc(*objectives: str) -> str:
    lines = "".join(f"\n    - {o}" for o in objectives)
    return f"""\
---
apiVersion: spo/v1
kind: ServiceLevelAgreement
metadata: {{name: pay-retail, version: 1.0.0, owner: team-a}}
spec:
  service: pay
  customer: retail
  validity: {{start: 2026-01-01, end: 2027-12-31}}
  window: {{hours: 24x7, period: monthly}}
  objectives:{lines}
"""


def catalog(root: Path, text: str) -> Path:
    (root / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n", encoding="utf-8")
    (root / "catalog").mkdir()
    (root / "catalog" / "all.yaml").write_text(text, encoding="utf-8")
    return root


def findings(root: Path) -> list[tuple[str, int]]:
    """(code, line) of every finding that is not a policy's."""
    result = validate(load_project(root))
    return [(d.code, d.line or 0) for d in result.findings.items if d.code.startswith("SPO")]


# Line numbers: HEAD is 22 lines, the SLA's first objective is on line 33.
FIRST = 33


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        ("{metric: mttr, priority: P1, target: 8, unit: h}", []),
        ("{metric: mttr, target: 8, unit: h, direction: lower-is-better}", []),  # same: no override
        # a 30 h MTTR against 8 h must never count as attained: the direction is the metric's
        ("{metric: mttr, target: 8, unit: h, direction: higher-is-better}", [("SPO411", FIRST)]),
        ("{metric: ticket-backlog, target: 40, unit: count}", [("SPO412", FIRST)]),
        ("{metric: ticket-backlog, target: 40, unit: count, direction: lower-is-better}", []),
        ("{metric: nps, target: -20, unit: points}", []),  # a negative NPS target is valid
        ("{metric: nps, target: -100, unit: points}", []),
        ("{metric: nps, target: -120, unit: points}", [("SPO403", FIRST)]),
        ("{metric: nps, target: 101, unit: points}", [("SPO403", FIRST)]),
        ("{metric: nps, target: 30, unit: percent}", [("SPO408", FIRST)]),
        ("{metric: availability, target: 100.5, unit: percent}", [("SPO403", FIRST)]),
        ("{metric: availability, target: 0, unit: percent}", []),
        ("{metric: availability, target: 8, unit: h}", [("SPO408", FIRST)]),
        ("{metric: incidents, target: 0, unit: count}", []),  # counts >= 0
        ("{metric: incidents, target: -1, unit: count}", [("SPO404", FIRST)]),
        ("{metric: response-time, target: 0, unit: ms}", [("SPO404", FIRST)]),  # times > 0
    ],
)
def test_objective_checks_read_the_registry(
    tmp_path: Path, objective: str, expected: list[tuple[str, int]]
) -> None:
    root = catalog(tmp_path, HEAD + sla_doc(objective))
    assert findings(root) == expected


RACI = """\
---
apiVersion: spo/v1
kind: ServiceProviderInterface
metadata: {name: desk, version: 1.0.0, owner: team-a}
spec:
  provider: team-a
  consumers: [retail]
  services: [pay]
  processes:
    - process: incident
      owner: team-a
      activities:
        - activity: Restore service
          raci: {team-a: %s, retail: R}
"""


@pytest.mark.parametrize(
    ("letters", "expected"),
    [("AR", []), ("RA", []), ("AA", ["SPO410"]), ("ARR", ["SPO410"]), ("RACI", [])],
)
def test_raci_letters_count_once(tmp_path: Path, letters: str, expected: list[str]) -> None:
    root = catalog(tmp_path, HEAD + RACI % letters)
    assert [c for c, _ in findings(root)] == expected


def test_a_repeated_raci_letter_is_reported_at_the_party(tmp_path: Path) -> None:
    root = catalog(tmp_path, HEAD + RACI % "AA")
    (d,) = validate(load_project(root)).findings.items
    assert (d.line, d.pointer) == (36, "/spec/processes/0/activities/0/raci/team-a")
    assert "A more than once" in d.message


# --- versioning: targets compared in one unit ---------------------------------------------------


def _sla(*objectives: dict[str, object]) -> dict[str, object]:
    return {"spec": {"objectives": list(objectives), "window": {"hours": "24x7"}}}


def _mttr(target: float, unit: str, **extra: object) -> dict[str, object]:
    return {"metric": "mttr", "priority": "P2", "target": target, "unit": unit, **extra}


@pytest.mark.parametrize(
    ("before", "after", "breaking"),
    [
        (_mttr(8, "h"), _mttr(2, "d"), True),  # 8 h -> 48 h: loosened, whatever the unit
        (_mttr(8, "h"), _mttr(48, "h"), True),
        (_mttr(8, "h"), _mttr(480, "min"), False),  # the same promise
        (_mttr(8, "h"), _mttr(28800, "s"), False),
        (_mttr(8, "h"), _mttr(0.25, "d"), False),  # 6 h: tightened
        (_mttr(1, "d"), _mttr(1441, "min"), True),  # one minute more
        (_mttr(8, "h"), {**_mttr(8, "h"), "unit": "percent"}, True),  # another unit family
        (
            {"metric": "incidents", "target": 5, "unit": "count"},
            {"metric": "incidents", "target": 8, "unit": "count"},
            True,  # fewer incidents is better: raising the count loosens
        ),
        (
            {"metric": "availability", "target": 99.9, "unit": "percent"},
            {"metric": "availability", "target": 99.5, "unit": "percent"},
            True,
        ),
        (
            {"metric": "nps", "target": 10, "unit": "points"},
            {"metric": "nps", "target": -5, "unit": "points"},
            True,
        ),
        (
            # the registry's direction wins over a (refused) override in the document
            _mttr(8, "h", direction="higher-is-better"),
            _mttr(30, "h", direction="higher-is-better"),
            True,
        ),
        (
            {"metric": "queue", "target": 5, "unit": "count", "direction": "higher-is-better"},
            {"metric": "queue", "target": 3, "unit": "count", "direction": "higher-is-better"},
            True,  # a custom metric: its declared direction
        ),
    ],
)
def test_loosened_targets_are_compared_in_one_unit(
    before: dict[str, object], after: dict[str, object], breaking: bool
) -> None:
    why = breaking_changes("ServiceLevelAgreement", _sla(before), _sla(after), live=False)
    assert bool(why) is breaking, why


def test_a_loosened_target_says_both_values() -> None:
    (why,) = breaking_changes(
        "ServiceLevelAgreement", _sla(_mttr(8, "h")), _sla(_mttr(2, "d")), live=False
    )
    assert why == "objective mttr P2 loosened from 8 h to 2 d"


# --- semantic versions ---------------------------------------------------------------------------


def test_versions_order_as_semver_says() -> None:
    # SemVer 2.0.0, section 11: the precedence list from the specification, in order
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
    ]
    parsed = [parse_version(v) for v in chain]
    assert all(v is not None for v in parsed)
    for a, b in itertools.pairwise(parsed):
        assert a is not None and b is not None and a < b
    assert parse_version("1.0.0+build.1") == parse_version("1.0.0+build.2")  # build ignored
    assert parse_version("1.0") is None and parse_version("01.0.0") is None
    assert bumped("1.0.0-rc.1", "minor") == "1.1.0"


# --- the SLA report: directions and units from the registry --------------------------------------


def test_report_judges_in_the_metrics_direction_and_converts_units(tmp_path: Path) -> None:
    root = catalog(
        tmp_path,
        HEAD
        + sla_doc(
            "{metric: mttr, priority: P2, target: 8, unit: h, direction: higher-is-better}",
            "{metric: response-time, target: 40, unit: ms}",
        ),
    )
    index = validate(load_project(root)).index
    rows = tmp_path / "m.csv"
    rows.write_text(
        "service,metric,priority,period,value,unit\n"
        "pay,mttr,P2,2026-03,30,h\n"  # 30 h against 8 h: breached (lower is better)
        "pay,response-time,,2026-03,0.035,s\n"  # 35 ms against 40 ms: attained, margin 5 ms
        "pay,response-time,,2026-04,2,min\n",  # 120,000 ms: breached
        encoding="utf-8",
    )
    rep = report(index, [(rows, "m.csv")])
    assert rep.diagnostics == []
    by = {(s.objective.metric, p.period.label): p for s in rep.series for p in s.points}
    mttr = by[("mttr", "2026-03")]
    assert (mttr.attained, mttr.margin) == (False, pytest.approx(-22.0))
    march = by[("response-time", "2026-03")]
    assert (march.measured, march.attained) == (pytest.approx(35.0), True)
    assert march.margin == pytest.approx(5.0)
    april = by[("response-time", "2026-04")]
    assert (april.measured, april.attained) == (pytest.approx(120000.0), False)


def test_registry_is_the_one_list_of_units() -> None:
    import json

    from spo_gitops.models.kinds import Objective
    from spo_gitops.providers.cmdb import _OBJECTIVE

    exported = Path(__file__).parents[2] / "schemas" / "v1" / "ServiceLevelAgreement.json"
    schema = json.loads(exported.read_text(encoding="utf-8"))
    units = ["percent", "ms", "s", "min", "h", "d", "count", "points"]
    assert list(metrics.UNITS) == units
    assert schema["$defs"]["Objective"]["properties"]["unit"]["enum"] == units
    assert Objective.model_json_schema()["properties"]["unit"]["enum"] == units
    assert _OBJECTIVE["properties"]["unit"]["enum"] == units  # type: ignore[index]


def test_the_site_shows_each_target_with_its_metrics_direction(tmp_path: Path) -> None:
    from tests.conftest import REPO
    from tests.helpers import run_spo

    out = tmp_path / "site"
    assert run_spo("-C", str(REPO), "docs", "build", "-o", str(out)).exit_code == 0
    page = (out / "services" / "open-banking-gateway.html").read_text(encoding="utf-8")
    assert "<td>≥ 99.9 percent</td>" in page  # availability: higher is better
    assert "<td>≤ 4 h</td>" in page  # P1 MTTR: lower is better
