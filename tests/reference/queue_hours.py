"""Calls and business hours (docs/kpis.md "Calls and business hours"): inbound legs that reached a queue, placed
and dated by when they entered it, inside or outside the opening hours of the queue's schedule (business_hours.py).
"""

from __future__ import annotations

import pandas as pd

from tests.reference.business_hours import BusinessHours
from tests.reference.hierarchy import Hierarchy
from tests.reference.kpis import _queued_legs, _slices


def queued_legs_in_hours(h: Hierarchy, hours: BusinessHours | None = None) -> pd.DataFrame:
    """The queue KPIs' legs (kpis._queued_legs) with `in_hours`: the queue entry lies in an opening interval of the
    queue's schedule (opening inclusive, closing exclusive; a leg without a queue follows `default`)."""
    legs = _queued_legs(h)
    hours = hours or BusinessHours()
    in_hours = hours.is_open(legs["queue"], legs["queued_at"]) if len(legs) else pd.Series(dtype=bool)
    legs["in_hours"] = in_hours.astype(int)
    legs["outside_hours"] = 1 - legs["in_hours"]
    legs["answered_in_hours"] = legs["answered"] * legs["in_hours"]
    legs["wait_in_hours"] = legs["wait"] * legs["in_hours"]
    legs["within_sl_in_hours"] = legs["within_sl"] * legs["in_hours"]
    return legs


def outside_hours_share(h: Hierarchy) -> pd.DataFrame:
    return _slices(queued_legs_in_hours(h), "outside_hours", "entered", ["queue"], "queued_at")


def service_level_in_hours(h: Hierarchy) -> pd.DataFrame:
    return _slices(queued_legs_in_hours(h), "within_sl_in_hours", "in_hours", ["queue"], "queued_at")


def asa_in_hours(h: Hierarchy) -> pd.DataFrame:
    return _slices(queued_legs_in_hours(h), "wait_in_hours", "answered_in_hours", ["queue"], "queued_at")
