"""HolidayCalendar: the days an SLA's service hours are closed (bank holidays, say).

An SLA names one in ``spec.window.calendar``; the service windows that start on one of its days
are closed, so they count neither as service time nor against the error budget.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from spo_gitops.models.common import Metadata, Model


class Holiday(Model):
    date: dt.date = Field(description="The day (YYYY-MM-DD).")
    name: str | None = Field(default=None, description="What the holiday is.")


class HolidayCalendarSpec(Model):
    region: str | None = Field(
        default=None, description="Where the calendar applies, e.g. England and Wales."
    )
    holidays: list[Holiday] = Field(min_length=1, description="The days service hours close.")


class HolidayCalendar(Model):
    """The days on which an SLA's service hours are closed."""

    api_version: Literal["spo/v1"] = Field(
        alias="apiVersion", description="Version of the document format: spo/v1."
    )
    kind: Literal["HolidayCalendar"]
    metadata: Metadata
    spec: HolidayCalendarSpec
