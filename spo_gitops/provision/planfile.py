"""Plan files: versioned JSON with a digest of their own content, optionally signed (HMAC).

The digest covers everything but itself and the signature, so any edit to a saved plan is
detected. With a signing key in ``SPO_PLAN_SIGNING_KEY``, plans are signed and ``apply`` refuses a
plan that is unsigned or whose signature does not match.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import fields
from typing import Any

from spo_gitops import __version__, jsonio
from spo_gitops.errors import SpoError
from spo_gitops.provision.plan import FORMAT_VERSION, Action, Change, Drift, Plan
from spo_gitops.provision.resources import canonical_json

SIGNING_KEY_ENV = "SPO_PLAN_SIGNING_KEY"


class PlanFileError(SpoError, ValueError):
    """A plan file that cannot be used: unreadable, altered, unsigned or of another format."""


def to_document(plan: Plan) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "spo-gitops", "version": __version__},
        "created": plan.created,
        "catalog": {"commit": plan.commit},
        "state": {
            "lineage": plan.lineage,
            "serial": plan.serial,
            "partition": plan.partition,
            "partition_fingerprint": plan.partition_fingerprint,
        },
        "options": {"refresh": plan.refresh, "prune": plan.prune, "targets": list(plan.targets)},
        "summary": plan.summary(),
        "actions": [_action(a) for a in plan.actions],
        "drift": [
            {"address": d.address, "missing": d.missing, "changes": _changes(d.changes)}
            for d in plan.drift
        ],
        "orphans": plan.orphans,
        "protected": plan.kept,
    }
    body["digest"] = digest_of(body)
    key = os.environ.get(SIGNING_KEY_ENV)
    if key:
        body["signature"] = _sign(key, body["digest"])
    return body


_ACTION_FIELDS = tuple(f.name for f in fields(Action))


def _changes(changes: tuple[Change, ...]) -> list[dict[str, Any]]:
    return [{"path": c.path, "before": c.before, "after": c.after} for c in changes]


def _action(a: Action) -> dict[str, Any]:
    # field by field rather than dataclasses.asdict, which deep-copies every property value
    out = {name: getattr(a, name) for name in _ACTION_FIELDS}
    out["changes"] = _changes(a.changes)
    out["depends_on"] = list(a.depends_on)
    return out


def digest_of(document: dict[str, Any]) -> str:
    content = {k: v for k, v in document.items() if k not in ("digest", "signature")}
    return "sha256:" + hashlib.sha256(canonical_json(content).encode()).hexdigest()


def _sign(key: str, digest: str) -> str:
    return "hmac-sha256:" + hmac.new(key.encode(), digest.encode(), hashlib.sha256).hexdigest()


def seal(plan: Plan) -> dict[str, Any]:
    """The plan's document; sets its digest (and signature, with a key configured)."""
    document = to_document(plan)
    plan.digest = document["digest"]
    plan.signature = document.get("signature")
    return document


def dumps(plan: Plan) -> str:
    """The plan file: one line of JSON (the C encoder; a 4,000-action plan indented by the pure
    Python encoder takes a second). ``spo plan --format text|markdown`` is for people."""
    return jsonio.dumps(seal(plan), ensure_ascii=False, separators=(",", ":")) + "\n"


def loads(text: str, source: str = "plan") -> Plan:
    """A plan from its JSON, verified: format, digest and (with a key configured) signature."""
    try:
        document = jsonio.loads(text)
    except json.JSONDecodeError as e:
        raise PlanFileError(
            f"{source}:{e.lineno}:{e.colno}: not a plan file: {e.msg}",
            hint="pass a file written by 'spo plan -o FILE'",
        ) from e
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{source}: not a plan of format version {FORMAT_VERSION}",
            hint="plan again with this version of spo",
        )
    if document.get("digest") != digest_of(document):
        raise PlanFileError(
            f"{source}: the plan was altered after it was written (its digest does not match)",
            hint="never edit a plan: plan again",
        )
    key = os.environ.get(SIGNING_KEY_ENV)
    if key:
        signature = document.get("signature")
        if not signature:
            raise PlanFileError(
                f"{source}: the plan is not signed, and {SIGNING_KEY_ENV} requires signed plans",
                hint="plan with the signing key set",
            )
        if not hmac.compare_digest(signature, _sign(key, document["digest"])):
            raise PlanFileError(
                f"{source}: the plan's signature does not match the signing key",
                hint="the plan was signed with another key, or altered: plan again",
            )
    try:
        return _from_document(document)
    except (KeyError, TypeError, ValueError) as e:
        raise PlanFileError(f"{source}: malformed plan: {e}") from e


def _from_document(document: dict[str, Any]) -> Plan:
    options = document["options"]
    plan = Plan(
        lineage=document["state"]["lineage"],
        serial=int(document["state"]["serial"]),
        partition=document["state"].get("partition"),
        partition_fingerprint=document["state"].get("partition_fingerprint"),
        commit=document["catalog"]["commit"],
        refresh=bool(options["refresh"]),
        prune=bool(options["prune"]),
        targets=tuple(options["targets"]),
        created=document["created"],
        digest=document["digest"],
        signature=document.get("signature"),
        orphans=list(document["orphans"]),
        kept=list(document["protected"]),
    )
    for raw in document["actions"]:
        fields = dict(raw)
        fields["changes"] = tuple(Change(**c) for c in raw["changes"])
        fields["depends_on"] = tuple(raw["depends_on"])
        plan.actions.append(Action(**fields))
    for raw in document["drift"]:
        changes = tuple(Change(**c) for c in raw["changes"])
        plan.drift.append(Drift(raw["address"], changes, bool(raw["missing"])))
    return plan
