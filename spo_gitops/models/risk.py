"""Risk: a portfolio risk, with its score, owner, mitigation and review dates.

A risk is a document of its own rather than a list on services: one risk often spans several
services and suppliers (a supplier that underpins many services, a shared platform), it has its
own owner, review cycle and version history, and its own reviewers in CODEOWNERS. A list on each
service would copy such a risk into every service it touches, and the copies would drift apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from spo_gitops.models.common import Metadata, Model, Name

Score = int  # 1 (rare, negligible) .. 5 (almost certain, severe)
RiskStatus = Literal["open", "mitigating", "accepted", "closed"]
RISK_OPEN: frozenset[str] = frozenset({"open", "mitigating", "accepted"})


class RiskReviews(Model):
    last: dt.date | None = Field(default=None, description="When the risk was last reviewed.")
    next: dt.date = Field(description="When the risk is next reviewed (YYYY-MM-DD).")


class RiskSpec(Model):
    category: str | None = Field(
        default=None, description="E.g. supplier, operational, security, regulatory, financial."
    )
    status: RiskStatus = Field(
        default="open",
        description="open; mitigating: actions under way; accepted: tolerated as it is; closed.",
    )
    likelihood: int = Field(
        ge=1, le=5, description="1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain."
    )
    impact: int = Field(
        ge=1, le=5, description="1 negligible, 2 minor, 3 moderate, 4 major, 5 severe."
    )
    owner: str = Field(min_length=1, description="The person accountable for the risk.")
    mitigation: str | None = Field(default=None, description="What reduces the risk.")
    reviews: RiskReviews = Field(description="Review dates.")
    services: list[Name] = Field(
        default_factory=list, description="Services (ServiceModel names) the risk bears on."
    )
    suppliers: list[Name] = Field(
        default_factory=list, description="Suppliers (Parties of type supplier) behind the risk."
    )


class Risk(Model):
    """A portfolio risk: likelihood, impact, owner, mitigation, reviews, services, suppliers."""

    api_version: Literal["spo/v1"] = Field(
        alias="apiVersion", description="Version of the document format: spo/v1."
    )
    kind: Literal["Risk"]
    metadata: Metadata
    spec: RiskSpec
