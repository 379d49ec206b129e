"""Versioning rules between two revisions, and ``spo bump``.

Every change of an entity's ``spec`` bumps ``metadata.version``; a breaking change bumps its major
part. Breaking changes (the list the README documents):

- ServiceLevelAgreement: an objective removed (objectives are matched by metric and priority), or
  its target loosened: lowered where higher is better, raised where lower is better, in the
  direction of the metric registry (models/metrics.py; a custom metric's declared direction),
  both targets compared in the canonical unit of their family (``8 h`` -> ``2 d`` is loosened),
  or its unit family changed; the service hours (``window.hours``), their time zone or their
  holiday calendar changed.
- PortfolioEntry: the stage moved back, or the approval record of a stage the service had
  reached (at the base) removed.
- ServiceModel of a service that is live or retiring at the base: a dependency, a capability or an
  outcome removed, or the tier made less critical (its number raised).
- ServiceProviderInterface: a consumer or a covered service removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from semver import Version

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.errors import SpoError, UsageError
from spo_gitops.models import metrics
from spo_gitops.models.common import SEMVER_PATTERN, STAGES

if TYPE_CHECKING:
    from spo_gitops.review.diff import CatalogDiff

Part = Literal["major", "minor", "patch"]


def parse_version(text: object) -> Version | None:
    """The semantic version ``text`` names, or None. Versions order by SemVer 2.0.0's
    precedence: ``1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0-rc.1 < 1.0.0``; build
    metadata (``+...``) does not count."""
    if not isinstance(text, str) or re.match(SEMVER_PATTERN, text) is None:
        return None
    try:
        return Version.parse(text)
    except ValueError:
        return None


def bumped(version: str, part: Part) -> str:
    v = parse_version(version)
    if v is None:
        raise UsageError(f"version {version!r} is not a semantic version")
    if part == "major":
        return f"{v.major + 1}.0.0"
    if part == "minor":
        return f"{v.major}.{v.minor + 1}.0"
    return f"{v.major}.{v.minor}.{v.patch + 1}"


# --- breaking changes ----------------------------------------------------------------------------


def _loosened(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """How the target went from ``old`` to ``new`` if it got looser, compared in the canonical
    unit of the metric registry (8 h -> 2 d is loosened; 8 h -> 480 min is not); a change of
    unit family changes what is promised and counts as loosened too."""
    t0, t1 = old.get("target"), new.get("target")
    u0, u1 = str(old.get("unit")), str(new.get("unit"))
    if not isinstance(t0, int | float) or not isinstance(t1, int | float):
        return None
    f0, f1 = metrics.family_of(u0), metrics.family_of(u1)
    if f0 is None or f1 is None:
        return None
    if f0 is not f1:
        return f"unit changed from {u0} to {u1}"
    direction = metrics.direction_of(str(old.get("metric")), old.get("direction"))
    if direction is None:
        return None  # a custom metric without a direction: validate's finding (SPO412)
    c0, c1 = f0.to_canonical(t0, u0), f0.to_canonical(t1, u1)
    tolerance = 1e-9 * max(abs(c0), abs(c1), 1.0)
    worse = c1 < c0 - tolerance if direction == "higher-is-better" else c1 > c0 + tolerance
    return f"loosened from {t0:g} {u0} to {t1:g} {u1}" if worse else None


def _objectives(spec: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for o in spec.get("objectives") or []:
        if isinstance(o, dict):
            out.setdefault((str(o.get("metric")), o.get("priority")), o)
    return out


def _removed(old: Any, new: Any) -> list[Any]:
    new_items = new if isinstance(new, list) else []
    return [x for x in (old if isinstance(old, list) else []) if x not in new_items]


def _removed_approvals(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Stages whose approval records are in ``old``'s spec and none of them in ``new``'s."""

    def stages(spec: dict[str, Any]) -> list[str]:
        return [str(x.get("stage")) for x in spec.get("approvals") or [] if isinstance(x, dict)]

    kept = set(stages(new))
    return sorted({s for s in stages(old) if s not in kept}, key=stages(old).index)


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
            how = _loosened(o, n)
            if how is not None:
                why.append(f"objective {_label(key)} {how}")
        w0, w1 = a.get("window") or {}, b.get("window") or {}
        for fld, what in (
            ("hours", "service hours"),
            ("timezone", "time zone of the service hours"),
            ("calendar", "holiday calendar of the service hours"),
        ):
            default = "UTC" if fld == "timezone" else None
            if w0.get(fld, default) != w1.get(fld, default):
                why.append(f"{what} changed")
    elif kind == "PortfolioEntry":
        s0, s1 = a.get("stage"), b.get("stage")
        if s0 in STAGES and s1 in STAGES and STAGES.index(s1) < STAGES.index(s0):
            why.append(f"stage moved back from {s0} to {s1}")
        if s0 in STAGES:
            why.extend(
                f"approval of {stage} removed (a stage the service had reached)"
                for stage in _removed_approvals(a, b)
                if stage in STAGES and STAGES.index(stage) <= STAGES.index(s0)
            )
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


def check(diff: CatalogDiff) -> Iterator[Diagnostic]:
    """SPO601-SPO603 for every changed or renamed entity of a CatalogDiff."""
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
        live = diff.base.index.stage_of(change.old.name) in ("live", "retiring")
        why = breaking_changes(change.kind, old, new, live)
        if why and v1.major <= v0.major:
            yield doc.diag(
                "SPO603",
                f"breaking change needs a major version bump (from {_text(v0)}): " + "; ".join(why),
                where,
                hint=f"run 'spo bump {change.name} --kind {change.kind} --part major'",
            )


def _text(v: Version) -> str:
    return str(v)


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
