"""Typed models of every document kind (the source of truth for schemas/)."""

from __future__ import annotations

from spo_gitops.models.calendar import HolidayCalendar
from spo_gitops.models.common import STAGES, Model
from spo_gitops.models.kinds import (
    KIND_MODELS,
    Party,
    Policy,
    PortfolioEntry,
    ResourcePool,
    ServiceLevelAgreement,
    ServiceModel,
    ServiceProviderInterface,
)

__all__ = [
    "KIND_MODELS",
    "STAGES",
    "HolidayCalendar",
    "Model",
    "Party",
    "Policy",
    "PortfolioEntry",
    "ResourcePool",
    "ServiceLevelAgreement",
    "ServiceModel",
    "ServiceProviderInterface",
]
