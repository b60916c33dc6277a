"""Business minutes (docs/domain.md section 6), from the seeds in dbt_project/business_hours/ alone.

A schedule is an IANA zone with weekly local opening hours and whole-day local holidays; each queue or ticket group
follows its assigned schedule, every other one `default`. Each open local day is converted to UTC in the schedule's
own zone (a daylight-saving change moves the interval in UTC, never the local hours). The business minutes of a
duration are its overlap with those intervals; a duration reaching outside business_calendar_start ..
business_calendar_end (local days of the schedule) has none (None, "no data", never 0).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "business_hours"
# dbt_project.yml vars business_calendar_start / business_calendar_end
CALENDAR_START, CALENDAR_END = date(2025, 1, 1), date(2027, 12, 31)


def _read(name: str, folder: Path) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class Schedule:
    name: str
    zone: str
    opens: np.ndarray  # UTC opening of each open day, datetime64[us], ascending
    closes: np.ndarray
    cumulative: np.ndarray  # open minutes of all intervals before interval i
    first: pd.Timestamp  # start of the calendar's first local day, UTC
    last: pd.Timestamp  # end of the calendar's last local day, UTC

    def _open_before(self, t: np.ndarray) -> np.ndarray:
        """Open minutes from the calendar's start up to each instant ``t`` (datetime64[us])."""
        i = np.searchsorted(self.opens, t, side="right") - 1  # last interval opening at or before t
        before = np.where(i >= 0, self.cumulative[np.clip(i, 0, None)], 0.0)
        inside = np.where(
            i >= 0,
            np.clip(t - self.opens[np.clip(i, 0, None)], np.timedelta64(0), self.closes[np.clip(i, 0, None)]
                    - self.opens[np.clip(i, 0, None)]) / np.timedelta64(1, "s") / 60.0,
            0.0,
        )  # fmt: skip
        return before + inside

    def minutes(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Business minutes of each [start, end] (naive UTC); None when an end is missing or outside the calendar."""
        s = pd.to_datetime(start).astype("datetime64[us]")
        e = pd.to_datetime(end).astype("datetime64[us]")
        known = s.notna() & e.notna() & (s >= self.first) & (e <= self.last)
        out = pd.Series(np.nan, index=s.index, dtype=float)
        if known.any():
            a = s[known].to_numpy()
            b = e[known].to_numpy()
            out[known] = np.clip(self._open_before(b) - self._open_before(a), 0.0, None)
        return out


def _utc(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    local = datetime.combine(day, time(hour, minute), tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


class BusinessHours:
    """Every schedule of the seeds, and the schedule of each queue."""

    def __init__(self, folder: Path = SEEDS, start: date = CALENDAR_START, end: date = CALENDAR_END) -> None:
        hours = _read("business_hours.csv", folder)
        holidays = {(r["schedule"], r["holiday_date"]) for r in _read("business_holidays.csv", folder)}
        self.assignments = {r["queue"]: r["schedule"] for r in _read("business_hours_assignments.csv", folder)}
        self.schedules: dict[str, Schedule] = {}
        for name in sorted({r["schedule"] for r in hours}):
            rows = {int(r["weekday"]): r for r in hours if r["schedule"] == name}
            zone = ZoneInfo(next(iter(rows.values()))["time_zone"])
            opens, closes = [], []
            day = start
            while day <= end:
                row = rows.get(day.isoweekday())
                if row and (name, day.isoformat()) not in holidays:
                    opens.append(_utc(day, row["opens_at"], zone))
                    closes.append(_utc(day, row["closes_at"], zone))
                day += timedelta(days=1)
            o = np.array(opens, dtype="datetime64[us]")
            c = np.array(closes, dtype="datetime64[us]")
            lengths = (c - o) / np.timedelta64(1, "s") / 60.0
            self.schedules[name] = Schedule(
                name=name,
                zone=str(zone),
                opens=o,
                closes=c,
                cumulative=np.concatenate([[0.0], np.cumsum(lengths)[:-1]]),
                first=pd.Timestamp(_utc(start, "00:00", zone)),
                last=pd.Timestamp(_utc(end + timedelta(days=1), "00:00", zone)),
            )

    def schedule_of(self, queue: object) -> str:
        return self.assignments.get(queue, "default") if isinstance(queue, str) else "default"

    def minutes(self, queues: pd.Series, start: pd.Series, end: pd.Series) -> pd.Series:
        """Business minutes of [start, end] in the schedule of each row's queue (group)."""
        schedule = queues.map(self.schedule_of)
        out = pd.Series(np.nan, index=start.index, dtype=float)
        for name, rows in schedule.groupby(schedule).groups.items():
            out[rows] = self.schedules[name].minutes(start[rows], end[rows])
        return out

    def is_open(self, queues: pd.Series, at: pd.Series) -> pd.Series:
        """Whether each instant is inside an opening interval of its queue's schedule (opening inclusive)."""
        schedule = queues.map(self.schedule_of)
        out = pd.Series(False, index=at.index, dtype=bool)
        for name, rows in schedule.groupby(schedule).groups.items():
            sch = self.schedules[name]
            t = pd.to_datetime(at[rows]).astype("datetime64[us]").to_numpy()
            i = np.searchsorted(sch.opens, t, side="right") - 1
            ok = (i >= 0) & (t < sch.closes[np.clip(i, 0, None)])
            out[rows] = ok
        return out
