"""Cutting documents to what policies read must not change any answer, error or message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import cel
import pytest

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.references import build_index
from spo_gitops.policy.expressions import ExpressionError, compile_expression
from spo_gitops.policy.lookups import FUNCTION_NAMES, Lookups
from spo_gitops.policy.positions import RootPositions
from spo_gitops.policy.projection import SELF, Projection


def _doc(kind: str, name: str, spec: dict[str, Any], **meta: Any) -> Document:
    data = {
        "apiVersion": "spo/v1",
        "kind": kind,
        "metadata": {"name": name, "version": "1.0.0", "owner": "team-a", **meta},
        "spec": spec,
    }
    return Document(f"{name}.yaml", f"{name}.yaml", 0, 1, data, valid=True)


DOCS = [
    _doc("Party", "team-a", {"type": "team", "contacts": [{"name": "A", "role": "owner"}]}),
    _doc("Party", "acme", {"type": "supplier"}, labels={"tier": "gold"}),
    _doc(
        "ServiceModel",
        "pay",
        {
            "tier": 1,
            "suppliers": ["acme"],
            "dependsOn": ["core"],
            "resources": [{"pool": "cpu", "quantity": 4}],
            "extra": {"a": 1, "b": [1, 2]},
        },
        labels={"env": "prod", "team": "x"},
        annotations={"n": "1"},
    ),
    _doc("ServiceModel", "core", {"tier": 2, "suppliers": []}),
    _doc(
        "PortfolioEntry",
        "pay",
        {
            "service": "pay",
            "stage": "live",
            "sponsor": "S",
            "approvals": [{"stage": "approved", "approver": "board"}],
            "businessCase": {
                "investment": 100,
                "annualCost": 10,
                "annualBenefit": 50,
                "horizonYears": 3,
                "currency": "EUR",
            },
        },
    ),
    _doc("PortfolioEntry", "core", {"service": "core", "stage": "retired"}),
    _doc(
        "ServiceLevelAgreement",
        "pay-sla",
        {
            "service": "pay",
            "status": "active",
            "objectives": [
                {"metric": "availability", "target": 99.9, "unit": "percent"},
                {"metric": "mttr", "target": 4, "unit": "h", "priority": "P1"},
            ],
        },
    ),
    _doc(
        "ServiceProviderInterface",
        "acme-spi",
        {"provider": "acme", "consumers": ["team-a"], "services": ["pay"]},
    ),
    _doc("ResourcePool", "cpu", {"unit": "vCPU", "capacity": 10}),
]

# (expression, kinds of self): shipped idioms and corners of CEL the analysis must get right
CASES = [
    ("stage_of(self.metadata.name) == 'live'", ["ServiceModel"]),
    (
        "party(self.metadata.owner) != null && party(self.metadata.owner).spec.type == 'team'",
        ["ServiceModel"],
    ),
    ("has(portfolio_of(self.metadata.name).spec.sponsor)", ["ServiceModel"]),
    (
        "slas_of(self.metadata.name).exists(s, !has(s.spec.status) || s.spec.status == 'active')",
        ["ServiceModel"],
    ),
    (
        "self.spec.suppliers.all(p, spis_of(self.metadata.name).exists(i, "
        "i.spec.provider == p || p in i.spec.consumers))",
        ["ServiceModel"],
    ),
    (
        "dependents_of(self.metadata.name).filter(d, stage_of(d.metadata.name) != 'x')"
        ".map(d, d.metadata.name)",
        ["ServiceModel"],
    ),
    ("dependents_of(self.metadata.name).filter(d, true)", ["ServiceModel"]),
    ("dependents_of(self.metadata.name)", ["ServiceModel"]),
    ("dependents_of(self.metadata.name).size()", ["ServiceModel"]),
    ("size(slas_of(self.metadata.name)[0].spec)", ["ServiceModel"]),
    ("roi(self) * 100.0", ["PortfolioEntry"]),
    ("tco(portfolio_of(self.spec.service))", ["ServiceLevelAgreement"]),
    (
        "service(self.spec.service) != null && service(self.spec.service).spec.tier == 1",
        ["ServiceLevelAgreement"],
    ),
    (
        "self.spec.objectives.all(o, o.metric != 'mttr' || (o.unit == 'h' && o.target <= 4))",
        ["ServiceLevelAgreement"],
    ),
    ("self.spec.objectives[1].priority", ["ServiceLevelAgreement"]),
    ("self['spec']['service']", ["ServiceLevelAgreement"]),
    ("self.spec.extra", ["ServiceModel"]),
    ("self.spec.extra.size()", ["ServiceModel"]),
    ("self.spec.extra.all(k, k != 'c')", ["ServiceModel"]),
    ("'a' in self.spec.extra", ["ServiceModel"]),
    ("self.spec.extra == {'a': 1, 'b': [1, 2]}", ["ServiceModel"]),
    ("self.spec.extra.b.size() == 2", ["ServiceModel"]),
    ("self.spec.extra.nothere", ["ServiceModel"]),
    ("self.spec.nothere == null", ["ServiceModel"]),
    ("has(self.spec.extra.a) && !has(self.spec.extra.z)", ["ServiceModel"]),
    ("self.metadata.labels", ["ServiceModel", "Party"]),
    ("self.metadata == null ? 1 : 2", ["ServiceModel"]),
    ("(has(self.spec.tier) ? self.spec : self.metadata).size()", ["ServiceModel", "Party"]),
    ("entity('Party', self.metadata.owner).spec", ["ServiceModel"]),
    ("entity(self.kind, self.metadata.name).metadata.annotations", ["ServiceModel"]),
    ("entity('ServiceModel', 'pay').spec.resources.map(r, r.pool)", ["Party"]),
    ("string(service('pay').spec.tier) + self.metadata.name", ["Party"]),
    ("[self.spec].all(s, s.tier > 0)", ["ServiceModel"]),
    ("[1, 2].exists(self, self == 2) && self.metadata.name != ''", ["ServiceModel"]),
    ("self.spec.suppliers.map(p, party(p)).all(x, x.spec.type == 'supplier')", ["ServiceModel"]),
    ("self.spec.suppliers.map(p, party(p))", ["ServiceModel"]),
    ("allocations_of('cpu').map(a, a.service)", ["ResourcePool"]),
    ("self.spec.unit + ' ' + string(self.spec.capacity)", ["ResourcePool"]),
    (
        "slas_of(self.metadata.name).map(s, s.spec.objectives.filter(o, o.metric == 'mttr'))",
        ["ServiceModel"],
    ),
    ("type(self.spec) == map", ["ServiceModel"]),
    ("self.spec.tier + 'x'", ["ServiceModel"]),
    ("today() != '' && self.metadata.name.startsWith('p')", ["ServiceModel"]),
    ("dyn(self.spec).tier == 1", ["ServiceModel"]),
    (
        "portfolio_of(self.metadata.name).spec.approvals.exists(a, a.stage == 'approved')",
        ["ServiceModel"],
    ),
    ("self.spec.suppliers.exists_one(p, p.startsWith('ac'))", ["ServiceModel"]),
    ("self.spec.resources.all(r, pool(r.pool).spec.capacity >= r.quantity)", ["ServiceModel"]),
    ("r'self.metadata' == \"self\" + '.metadata'", ["ServiceModel"]),
]


def _evaluate(functions: dict[str, Any], this: Any, source: str) -> Any:
    expr = compile_expression(source, FUNCTION_NAMES)
    try:
        return ("ok", expr.run(cel.Context(variables={"self": this}, functions=functions)))
    except ExpressionError as e:
        return ("error", str(e))


@pytest.mark.parametrize(("source", "kinds"), CASES)
def test_cut_documents_give_the_same_answers(source: str, kinds: list[str]) -> None:
    index, _ = build_index(DOCS)
    projection = Projection.of([(source, kinds)])
    assert projection.roots is not None, "the analysis should understand this expression"
    whole = Lookups(index, dt.date(2026, 1, 1))
    cut = Lookups(index, dt.date(2026, 1, 1))
    for doc in DOCS:
        if doc.kind not in kinds:
            continue
        expected = _evaluate(whole.functions(), doc.data, source)
        this = cut.cut(projection, SELF + doc.kind, doc.data)
        got = _evaluate(cut.functions(projection), this, source)
        assert got == expected, (doc.ref, source)


def test_cut_keeps_only_what_is_read() -> None:
    projection = Projection.of(
        [("party(self.metadata.owner).spec.type == 'team' && has(self.spec.x)", ["ServiceModel"])]
    )
    pay = DOCS[2].data
    assert projection.cut("self:ServiceModel", pay) == {"metadata": {"owner": "team-a"}, "spec": {}}
    assert projection.cut("party", DOCS[0].data) == {"spec": {"type": "team"}}


@pytest.mark.parametrize(
    "source",
    [
        "self.spec.?tier.orValue(0) == 1",  # optional syntax: the operand is kept whole
        "self.spec.tier == 1 // a comment",
        "self.spec.tier\n  == 1",
    ],
)
def test_unusual_syntax_is_handled_or_turns_projection_off(source: str) -> None:
    projection = Projection.of([(source, ["ServiceModel"])])
    if projection.roots is not None:
        assert projection.cut("self:ServiceModel", DOCS[2].data)["spec"]["tier"] == 1


def test_root_positions_match_a_reparse(tmp_path: Any) -> None:
    from spo_gitops.catalog.documents import load_file
    from spo_gitops.catalog.loader import Limits

    text = (
        "# leading comment\n"
        "kind: A\nmetadata: {name: a}\n"
        "---\n"
        "  kind: B\n  metadata: {name: b}\n"
        "--- {kind: C, metadata: {name: c}}\n"
        "--- # comment\n"
        "kind: D\nmetadata: {name: d}\n"
        "---\r\nkind: E\r\nmetadata:\r\n  name: e\r\n"
    )
    path = tmp_path / "f.yaml"
    path.write_bytes(text.encode())
    docs, _ = load_file(str(path), "f.yaml", Limits())
    assert len(docs) == 5
    positions = RootPositions()
    for doc in docs:
        expected = doc.position(())
        doc.node = None
        assert (doc.line, positions.column(doc)) == expected
        assert positions.diag(doc, "X1", "m") == doc.diag("X1", "m")


def test_worker_processes_give_the_same_findings_in_the_same_order(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers over the reference catalog plus a policy failing on every pool: the same
    findings as one process, runtime errors capped per policy in the same order."""
    import shutil

    from spo_gitops.catalog.validate import validate
    from spo_gitops.config import load_project
    from spo_gitops.policy import evaluate_policies
    from tests.conftest import REPO

    root = tmp_path / "ref"
    for name in ("catalog", "policies", "schemas"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    shutil.copy(REPO / "tests" / "fixtures" / "policy" / "broken.yaml", root / "policies")
    index = validate(load_project(root), jobs=1).index
    today = dt.date(2026, 6, 1)
    one = evaluate_policies(index, today, jobs=1).findings
    two = evaluate_policies(index, today, jobs=2).findings
    assert [d.code for d in one].count("SPO502") >= 1
    assert two == one
