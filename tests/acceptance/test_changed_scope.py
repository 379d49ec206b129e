"""Changed-only validation runs the catalog-wide checks on the touched entities only.

Each case changes one part of the reference catalog so that a catalog-wide check must report in
another, unchanged file: the finding (code, file and the words of its message) is stated here by
hand from the rule in docs/rules.md, and the changed-only run must report it, with exactly the
findings of a full run in that file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.review.changed import validate_changed
from tests.gitrepo import commit, reference_repo, write

TODAY = dt.date(2026, 11, 24)

Change = Callable[[Path], None]


def edit(rel: str, old: str, new: str) -> Change:
    def change(root: Path) -> None:
        path = root / rel
        text = path.read_text("utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), "utf-8")

    return change


def add(rel: str, text: str) -> Change:
    return lambda root: write(root, {rel: text})


def both(*changes: Change) -> Change:
    def change(root: Path) -> None:
        for c in changes:
            c(root)

    return change


def agreement(name: str, kind: str, service: str, customer: str, provider: str, target: str) -> str:
    return f"""\
apiVersion: spo/v1
kind: ServiceLevelAgreement
metadata: {{name: {name}, version: 1.0.0, owner: team-service-management}}
spec:
  type: {kind}
  service: {service}
  customer: {customer}
  provider: {provider}
  status: active
  validity: {{start: 2026-01-01, end: 2027-12-31}}
  window: {{hours: 24x7, timezone: Europe/London, period: monthly}}
  objectives:
    - {{metric: availability, target: {target}, unit: percent}}
"""


@dataclass
class Case:
    change: Change
    code: str
    file: str  # where the finding is: a file the change does not touch
    words: str  # in its message
    base: Change | None = None  # committed before the change


SUPPLIER = "  suppliers: [meridian-telecom]\n  dependsOn:\n"
CASES = {
    # an entry added before network's own (in catalog order) makes network's the second one
    "SPO306 second portfolio entry": Case(
        lambda root: write(
            root,
            {
                "catalog/portfolio/aaa-network.yaml": (root / "catalog/portfolio/network.yaml")
                .read_text("utf-8")
                .replace("name: network\n", "name: aaa-network\n", 1)
            },
        ),
        "SPO306",
        "catalog/portfolio/network.yaml",
        "service 'network' already has the portfolio entry 'aaa-network'",
    ),
    "SPO307 entry deleted": Case(
        lambda root: (root / "catalog/portfolio/robo-advice.yaml").unlink(),
        "SPO307",
        "catalog/services/robo-advice.yaml",
        "service 'robo-advice' has no PortfolioEntry",
    ),
    "SPO303 customer retyped": Case(
        edit("catalog/parties/customers.yaml", "type: customer", "type: team"),
        "SPO303",
        "catalog/slas/internet-banking-retail.yaml",
        "SLA internet-banking-retail: customer retail-banking is a team, expected a customer",
    ),
    "SPO419 a dependency's looser OLA": Case(
        add(
            "catalog/slas/customer-identity-ola.yaml",
            agreement(
                "customer-identity-ola",
                "OLA",
                "customer-identity",
                "team-digital",
                "team-identity",
                "99.0",
            ),
        ),
        "SPO419",
        "catalog/slas/internet-banking-retail.yaml",
        "availability target 99.95 percent of internet-banking-retail is not backed: "
        "OLA customer-identity-ola of customer-identity targets 99 percent",
    ),
    "SPO309 the supplier's SPI stops covering the service": Case(
        edit(
            "catalog/spis/meridian-telecom.yaml", "  services:\n    - network\n", "  services: []\n"
        ),
        "SPO309",
        "catalog/slas/network-uc.yaml",
        "underpinning contract network-uc: no SPI of meridian-telecom covers network",
        base=add(
            "catalog/slas/network-uc.yaml",
            agreement(
                "network-uc", "UC", "network", "team-infrastructure", "meridian-telecom", "99.9"
            ),
        ),
    ),
    "SPO1003 the service asks the budget for more": Case(
        edit("catalog/services/internet-banking.yaml", "quantity: 4200000", "quantity: 4300000"),
        "SPO1003",
        "catalog/portfolio/internet-banking.yaml",
        "annual cost 4,200,000 EUR of internet-banking (live) disagrees with its run budget "
        "allocation of 4,300,000 EUR",
    ),
    "SPO1004 the service's only risk closed": Case(
        edit("catalog/risks/single-carrier-network.yaml", "status: accepted", "status: closed"),
        "SPO1004",
        "catalog/services/network.yaml",
        "tier-1 live service network has no reviewed risk",
    ),
    "SPO1005 a supplier underpins four tier-1 services": Case(
        both(
            edit(
                "catalog/services/card-processing.yaml",
                "    - cardlink-processing\n",
                "    - cardlink-processing\n    - meridian-telecom\n",
            ),
            edit(
                "catalog/services/hosting-platform.yaml",
                "    - cirrus-cloud\n",
                "    - cirrus-cloud\n    - meridian-telecom\n",
            ),
            edit("catalog/services/internet-banking.yaml", "  dependsOn:\n", SUPPLIER),
        ),
        "SPO1005",
        "catalog/parties/suppliers.yaml",
        "supplier meridian-telecom underpins 4 tier-1 services (card-processing, "
        "hosting-platform, internet-banking, network), more than 3",
    ),
    "SPO823 the SLA drops the plan's objective": Case(
        edit(
            "catalog/slas/service-desk-branch.yaml",
            "    - metric: first-contact-resolution",
            "    - metric: customer-effort-score",
        ),
        "SPO823",
        "catalog/improvement-plans/service-desk-fcr.yaml",
        "SLA service-desk-branch has no objective 'first-contact-resolution'",
    ),
}


def key(d: Diagnostic) -> tuple[str, ...]:
    return tuple(str(v) for v in (d.file, d.line, d.column, d.code, d.message, d.waived))


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_change_is_found_changed_only_in_the_other_file_the_check_reports_in(
    in_tmp: Path, name: str
) -> None:
    case = CASES[name]
    repo = reference_repo(in_tmp)
    if case.base is not None:
        case.base(repo)
        commit(repo, "the base of the case")
    case.change(repo)
    full = validate(load_project(repo), today=TODAY).findings.items
    expected = [
        d for d in full if d.code == case.code and d.file == case.file and case.words in d.message
    ]
    assert expected, f"the full run finds {case.code} in {case.file}"
    changed = validate_changed(load_project(repo), "main", today=TODAY)
    assert case.file not in changed.changed, "the finding is in a file the change left alone"
    got = {key(d) for d in changed.findings.items if d.file == case.file}
    assert {key(d) for d in expected} <= got
    assert got == {key(d) for d in full if d.file == case.file}
