"""Shared pieces of every document: the envelope, metadata and reusable value types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h|d|w)$"
REF_PATTERN = r"^[A-Za-z]+:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"

Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        max_length=63,
        description="Lowercase DNS label: a-z, 0-9 and '-', at most 63 characters.",
    ),
]
Duration = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, description="A duration such as 30m, 4h, 2d or 1.5h."),
]
Percent = Annotated[float, Field(ge=0, le=100, description="A percentage, 0 to 100.")]
Cadence = Literal["daily", "weekly", "monthly", "quarterly", "half-yearly", "yearly"]

Stage = Literal[
    "proposed",
    "defined",
    "analyzed",
    "approved",
    "chartered",
    "designed",
    "transitioning",
    "live",
    "retiring",
    "retired",
]
STAGES: tuple[str, ...] = Stage.__args__  # type: ignore[attr-defined]

PartyType = Literal["team", "board", "supplier", "customer"]
PARTY_TYPES: tuple[str, ...] = PartyType.__args__  # type: ignore[attr-defined]
# The parties inside the organisation: they own entities' records and take its decisions
# (an approval on the portfolio's trail is theirs); suppliers and customers are outside it.
INTERNAL_PARTY_TYPES = frozenset({"team", "board"})


class Model(BaseModel):
    """Base of every model: camelCase in YAML, unknown fields refused, immutable.

    Each model's validator is built on its first use (``defer_build``), not at import: a command
    pays only for the kinds it reads, and validation's worker processes, forked right after the
    imports, build theirs in parallel (about 0.1 s of every start-up before)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
        defer_build=True,
    )


class Link(Model):
    url: str = Field(description="Where the link points (runbook, dashboard, repository, ...).")
    title: str | None = Field(default=None, description="Text shown for the link.")


class _MetadataBase(Model):
    name: Name = Field(description="Unique name of the entity within its kind.")
    version: str = Field(
        pattern=SEMVER_PATTERN,
        description="Semantic version of the document; every change of spec bumps it.",
    )
    title: str | None = Field(default=None, description="Human-readable title.")
    description: str | None = Field(default=None, description="What this entity is about.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Key/value labels used by policy selectors."
    )
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Free-form key/value notes for tools."
    )
    links: list[Link] = Field(default_factory=list, description="Related links.")


class Metadata(_MetadataBase):
    owner: Name = Field(description="The team (a Party of type team) that owns this entity.")


class PartyMetadata(_MetadataBase):
    owner: Name | None = Field(
        default=None, description="The team that maintains this party's record, if any."
    )
