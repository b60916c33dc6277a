"""Agents per queue and interval by Erlang C: for the forecast, and for the intervals that happened.

Each queue's target (share within seconds), maximum occupancy and shrinkage come from int_queue_service_levels.
Only voice queues are staffed this way: Erlang C assumes an agent handles one contact at a time.
"""

from __future__ import annotations

import pandas as pd

from contact_warehouse.staffing.erlang import agents_needed, scheduled_heads, staffing_at
from contact_warehouse.staffing.forecast import is_missing

TARGET_COLUMNS = ["queue", "service_level_target", "service_level_seconds", "max_occupancy", "shrinkage"]
REQUIRED_COLUMNS = ["required_agents", "required_heads", "expected_service_level", "expected_asa_seconds",
                    "expected_occupancy"]  # fmt: skip
ACTUAL_COLUMNS = [*REQUIRED_COLUMNS, "planning_aht_seconds", "service_level_at_actual_agents", "staffing_gap"]
INTEGER_COLUMNS = ("required_agents", "required_heads", "staffing_gap")
INTERVAL_COLUMNS = ["interval_minutes", "offered_contacts", "answered_contacts", "handle_seconds", "agents_handling"]


def _targets(frame: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    missing = sorted(set(frame["queue"]) - set(targets["queue"]))
    if missing:
        raise ValueError(f"int_queue_service_levels has no target for queue(s) {missing}")
    # A column the frame already has (the interval marts carry service_level_seconds) is kept as it is.
    columns = ["queue", *(c for c in TARGET_COLUMNS if c not in frame.columns)]
    return frame.merge(targets[columns], on="queue", how="left", validate="many_to_one")


def _required(contacts: float, aht: float | None, interval_seconds: int, row) -> dict:
    """Erlang C for one interval; every value None when the AHT is unknown."""
    if is_missing(aht) or is_missing(contacts) or (contacts > 0 and aht <= 0):
        return {"required_agents": None, "required_heads": None, "expected_service_level": None,
                "expected_asa_seconds": None, "expected_occupancy": None}  # fmt: skip
    if contacts <= 0:
        return {"required_agents": 0, "required_heads": 0, "expected_service_level": None,
                "expected_asa_seconds": None, "expected_occupancy": None}  # fmt: skip
    needed = agents_needed(contacts, aht, interval_seconds, row.service_level_target, row.service_level_seconds,
                           row.max_occupancy)  # fmt: skip
    return {
        "required_agents": needed.agents,
        "required_heads": scheduled_heads(needed.agents, row.shrinkage),
        "expected_service_level": needed.service_level,
        "expected_asa_seconds": needed.asa_seconds,
        "expected_occupancy": needed.occupancy,
    }


def required_for_forecast(future: pd.DataFrame, targets: pd.DataFrame, interval_minutes: int) -> pd.DataFrame:
    """The forecast with, per interval, the agents needed on the phones, the heads to schedule after shrinkage,
    and the service level, ASA and occupancy Erlang C expects at that staffing."""
    frame = _targets(future, targets)
    rows = [
        _required(row.forecast_offered, row.forecast_aht_seconds, interval_minutes * 60, row)
        for row in frame.itertuples(index=False)
    ]
    return pd.concat([frame.reset_index(drop=True), pd.DataFrame(rows, columns=REQUIRED_COLUMNS)], axis=1)


def required_for_actuals(intervals: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Each interval that happened (mart_staffing_queue_intervals of one length): the agents Erlang C needed for
    its offered calls and AHT, and what it expected from the agents who handled calls there.

    An interval whose calls were all abandoned has no AHT of its own: the queue's recent AHT stands in (column
    fallback_aht_seconds, actuals.planning_inputs: its reporting day and the days before it), so the intervals
    most understaffed are not the ones left out. Each row's result depends on that row alone (a nightly run
    computes only the rows whose inputs changed)."""
    frame = _targets(intervals, targets)
    out = []
    # Only the columns the loop reads: boxing each row's timestamps into Python objects took a third of the loop.
    for row in frame[[*TARGET_COLUMNS, *INTERVAL_COLUMNS, "fallback_aht_seconds"]].itertuples(index=False):
        interval_seconds = int(row.interval_minutes) * 60
        aht = row.handle_seconds / row.answered_contacts if row.answered_contacts else row.fallback_aht_seconds
        result = _required(float(row.offered_contacts), aht, interval_seconds, row)
        at_actual = None
        if result["required_agents"] is not None and row.offered_contacts > 0:
            at_actual = staffing_at(int(row.agents_handling), float(row.offered_contacts), aht, interval_seconds,
                                    row.service_level_seconds).service_level  # fmt: skip
        gap = None if result["required_agents"] is None else int(row.agents_handling) - result["required_agents"]
        out.append({**result, "planning_aht_seconds": aht, "service_level_at_actual_agents": at_actual,
                    "staffing_gap": gap})  # fmt: skip
    # One type per column whatever the rows: a nightly run's few rows go into the table a full run typed.
    actual = pd.DataFrame(out, columns=ACTUAL_COLUMNS).astype(
        {column: "Int64" if column in INTEGER_COLUMNS else "float64" for column in ACTUAL_COLUMNS}
    )
    return pd.concat([frame.reset_index(drop=True), actual], axis=1)
