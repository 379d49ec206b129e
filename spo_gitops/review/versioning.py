"""Versioning rules between two revisions, and ``spo bump``.

Every change of an entity's ``spec`` bumps ``metadata.version``; a breaking change bumps its major
part. Breaking changes (the list the README documents):

- ServiceLevelAgreement: an objective removed (objectives are matched by metric and priority), or
  its target loosened: lowered where higher is better (``percent``, ``count`` and
  ``direction: higher-is-better``), raised where lower is better (times: ``ms s min h d``, and
  ``direction: lower-is-better``); the service hours (``window.hours``) changed.
- PortfolioEntry: the stage moved back.
- ServiceModel of a service that is live or retiring at the base: a dependency, a capability or an
  outcome removed, or the tier made less critical (its number raised).
- ServiceProviderInterface: a consumer or a covered service removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from spo_gitops.catalog.documents import Document
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.errors import SpoError, UsageError
from spo_gitops.models.common import SEMVER_PATTERN, STAGES

if TYPE_CHECKING:
    from spo_gitops.review.diff import CatalogDiff

Part = Literal["major", "minor", "patch"]
_TIME_UNITS = frozenset({"ms", "s", "min", "h", "d"})
Version = tuple[int, int, int, int]  # major, minor, patch, 1 for a release / 0 for a pre-release


def parse_version(text: object) -> Version | None:
    m = re.match(SEMVER_PATTERN, str(text))
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if m.group(4) else 1


def bumped(version: str, part: Part) -> str:
    v = parse_version(version)
    if v is None:
        raise UsageError(f"version {version!r} is not a semantic version")
    major, minor, patch, _ = v
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# --- breaking changes ----------------------------------------------------------------------------


def _higher_is_better(objective: dict[str, Any]) -> bool:
    direction = objective.get("direction")
    if direction is not None:
        return bool(direction == "higher-is-better")
    return objective.get("unit") not in _TIME_UNITS


def _objectives(spec: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for o in spec.get("objectives") or []:
        if isinstance(o, dict):
            out.setdefault((str(o.get("metric")), o.get("priority")), o)
    return out


def _removed(old: Any, new: Any) -> list[Any]:
    new_items = new if isinstance(new, list) else []
    return [x for x in (old if isinstance(old, list) else []) if x not in new_items]


def _label(key: tuple[str, str | None]) -> str:
    return key[0] + (f" {key[1]}" if key[1] else "")


def breaking_changes(kind: str, old: dict[str, Any], new: dict[str, Any], live: bool) -> list[str]:
    """Why the change from ``old`` to ``new`` (documents' data) breaks its consumers."""
    a, b = old.get("spec") or {}, new.get("spec") or {}
    why: list[str] = []
    if kind == "ServiceLevelAgreement":
        before, after = _objectives(a), _objectives(b)
        for key, o in before.items():
            n = after.get(key)
            if n is None:
                why.append(f"objective {_label(key)} removed")
                continue
            if o.get("unit") != n.get("unit"):
                continue
            t0, t1 = o.get("target"), n.get("target")
            if not isinstance(t0, int | float) or not isinstance(t1, int | float):
                continue
            if (t1 < t0) if _higher_is_better(o) else (t1 > t0):
                why.append(f"objective {_label(key)} loosened from {t0} to {t1} {o.get('unit')}")
        if (a.get("window") or {}).get("hours") != (b.get("window") or {}).get("hours"):
            why.append("service hours changed")
    elif kind == "PortfolioEntry":
        s0, s1 = a.get("stage"), b.get("stage")
        if s0 in STAGES and s1 in STAGES and STAGES.index(s1) < STAGES.index(s0):
            why.append(f"stage moved back from {s0} to {s1}")
    elif kind == "ServiceModel" and live:
        for fld, what in (("dependsOn", "dependency"), ("capabilities", "capability")):
            why.extend(f"{what} {x} removed" for x in _removed(a.get(fld), b.get(fld)))
        names = [o.get("name") for o in b.get("outcomes") or [] if isinstance(o, dict)]
        for o in a.get("outcomes") or []:
            if isinstance(o, dict) and o.get("name") not in names:
                why.append(f"outcome {o.get('name')!r} removed")
        t0, t1 = a.get("tier"), b.get("tier")
        if isinstance(t0, int) and isinstance(t1, int) and t1 > t0:
            why.append(f"tier lowered from {t0} to {t1}")
    elif kind == "ServiceProviderInterface":
        for fld, what in (("consumers", "consumer"), ("services", "service")):
            why.extend(f"{what} {x} removed" for x in _removed(a.get(fld), b.get(fld)))
    return why


def _stage_of(service: str, docs: dict[str, Document]) -> str | None:
    entry = docs.get(service)
    spec = entry.data.get("spec") if entry is not None else None
    return str(spec.get("stage")) if isinstance(spec, dict) else None


def check(diff: CatalogDiff) -> Iterator[Diagnostic]:
    """SPO601-SPO603 for every changed or renamed entity of a CatalogDiff."""
    base_entries = {
        str((d.data.get("spec") or {}).get("service")): d
        for d in diff.base.documents
        if d.kind == "PortfolioEntry" and isinstance(d.data.get("spec"), dict)
    }
    for change in diff.changes:
        if change.status not in ("changed", "renamed"):
            continue
        assert change.old is not None and change.new is not None
        old, new = change.old.data, change.new.data
        v0 = parse_version((old.get("metadata") or {}).get("version"))
        v1 = parse_version((new.get("metadata") or {}).get("version"))
        if v0 is None or v1 is None:
            continue  # an invalid version is validate's finding (SPO406)
        where = ["metadata", "version"]
        doc = change.new
        if v1 < v0:
            yield doc.diag(
                "SPO602",
                f"version lowered from {_text(v0)} to {_text(v1)}",
                where,
                hint="versions only go up: bump from the base revision's version",
            )
            continue
        if not change.spec_changed:
            continue
        if v1 == v0:
            yield doc.diag(
                "SPO601",
                f"spec of {change.ref} changed but its version is still {_text(v1)}",
                where,
                hint=f"run 'spo bump {change.name} --kind {change.kind}' (or --part major "
                "for a breaking change)",
            )
            continue
        live = _stage_of(change.old.name, base_entries) in ("live", "retiring")
        why = breaking_changes(change.kind, old, new, live)
        if why and v1[0] <= v0[0]:
            yield doc.diag(
                "SPO603",
                f"breaking change needs a major version bump (from {_text(v0)}): " + "; ".join(why),
                where,
                hint=f"run 'spo bump {change.name} --kind {change.kind} --part major'",
            )


def _text(v: Version) -> str:
    return f"{v[0]}.{v[1]}.{v[2]}" + ("" if v[3] else "-pre")


# --- spo bump ------------------------------------------------------------------------------------


def bump_text(text: str, kind: str, name: str, part: Part) -> tuple[str, str, str]:
    """``text`` with the version of ``kind:name`` bumped; returns (text, old, new).

    ruamel.yaml's round-trip loader finds the version scalar; only that scalar is replaced in the
    source, so comments, quoting, key order and layout stay exactly as they were."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    try:
        docs = list(yaml.load_all(text))
    except YAMLError as e:
        raise SpoError(f"cannot parse the file: {e}") from e
    for doc in docs:
        meta: Any = doc.get("metadata") if hasattr(doc, "get") else None
        if doc.get("kind") != kind or not hasattr(meta, "get") or meta.get("name") != name:
            continue
        if "version" not in meta:
            raise SpoError(f"{kind}:{name} has no metadata.version")
        old = str(meta["version"])
        new = bumped(old, part)
        line, col = meta.lc.value("version")
        lines = text.splitlines(keepends=True)
        src = lines[line]
        m = re.compile(r"([\"']?)" + re.escape(old) + r"\1").match(src, col)
        if m is None:
            raise SpoError(f"cannot find the version of {kind}:{name} in its source")
        lines[line] = src[: m.start()] + m.group(1) + new + m.group(1) + src[m.end() :]
        return "".join(lines), old, new
    raise SpoError(f"{kind}:{name} is not in this file")
