"""The help desk's own KPIs (docs/kpis.md "Tickets"), from the raw ticket export and the business-hours seeds.

One row per ticket (``timed``) with its durations in calendar and business minutes, then the KPIs as `slice, num,
den` (kpis.py): creation-dated counts (tickets created, first reply, SLA attainment) and solve-dated counts
(resolution time, requester wait, agent replies, one-touch, reopens), sliced by the ticket's group, assignee,
intent and channel, and per day, week and month; the backlog is a snapshot at the end of each day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.reference.business_hours import BusinessHours
from tests.reference.exports import to_utc
from tests.reference.hierarchy import Hierarchy
from tests.reference.kpis import _slices

# dbt_project.yml var ticket_first_reply_target_hours (business hours, per priority)
FIRST_REPLY_TARGET_HOURS = {"urgent": 1, "high": 4, "normal": 8, "low": 24}
OPEN_STATUSES = ("new", "open", "pending", "hold")
WAITING_STATUSES = ("new", "open", "hold")  # waiting on the help desk (pending waits on the requester)
SOLVED_STATUSES = ("solved", "closed")
# The help desk's `phone` is the warehouse's `voice` (staging: "as everywhere"); no channel is `unknown`.
CHANNEL = {"phone": "voice"}
DIMENSIONS = ["group", "agent", "intent", "channel"]


def _t(value: object) -> pd.Timestamp:
    return to_utc(pd.Series([value]))[0] if value else pd.NaT


def _history(ticket: dict) -> list[tuple[pd.Timestamp, str, object]]:
    """Status changes in time order (stable on the export's order): (at, status, author_role)."""
    changes = [
        (_t(s.get("created_at")), k, s.get("value"), s.get("author_role"))
        for k, s in enumerate(ticket.get("status_changes") or [])
    ]
    changes = sorted((c for c in changes if c[0] is not pd.NaT and not pd.isna(c[0])), key=lambda c: (c[0], c[1]))
    return [(at, value, role) for at, _, value, role in changes]


def data_end(tickets: list[dict]) -> pd.Timestamp:
    """The export's end: its latest comment or status change (docs: unanswered time runs to the data's end)."""
    stamps = [_t(c.get("created_at")) for t in tickets for c in t.get("comments") or []]
    stamps += [at for t in tickets for at, _, _ in _history(t)]
    stamps = [s for s in stamps if not pd.isna(s)]
    return max(stamps) if stamps else pd.NaT


def timed(tickets: list[dict], intent_of, hours: BusinessHours | None = None) -> pd.DataFrame:
    """One row per ticket: dimensions, dates and durations (calendar and business minutes of its group's schedule)."""
    hours = hours or BusinessHours()
    end = data_end(tickets)
    rows = []
    for t in tickets:
        history_exported = t.get("history_exported") is not False
        comments = sorted(
            ((_t(c.get("created_at")), k, c) for k, c in enumerate(t.get("comments") or [])), key=lambda x: x[:2]
        )
        # A reply is an agent's public comment: an internal note (not public) or an automatic message (system) is not.
        replies = [at for at, _, c in comments if c.get("public") and c.get("author_role") == "agent"]
        history = _history(t)
        status = t["status"]
        solved_now = status in SOLVED_STATUSES
        solves = [(at, role) for at, value, role in history if value == "solved"]
        solved_at = _t(t.get("solved_at")) if t.get("solved_at") else (solves[-1][0] if solves else pd.NaT)
        if not solved_now:
            solved_at = pd.NaT
        latest_solve_author = solves[-1][1] if solves else None
        # Reopened: left solved (or closed) for a status that is not solved or closed.
        reopens = sum(
            1
            for (_, before, _), (_, after, _) in zip(history, history[1:], strict=False)
            if before in SOLVED_STATUSES and after not in SOLVED_STATUSES
        )
        # Requester wait: the time new, open or on hold, before the latest solve.
        waits = []
        if solved_now and not pd.isna(solved_at):
            for (at, value, _), nxt in zip(history, [*history[1:], None], strict=False):
                stop = solved_at if nxt is None else min(nxt[0], solved_at)
                if value in WAITING_STATUSES and stop > at:
                    waits.append((at, stop))
        intent = intent_of([("ticket_tag", tag) for tag in t.get("tags") or []]) or "unknown"
        channel = (t.get("via") or {}).get("channel")
        rows.append(
            {
                "ticket_id": t["id"],
                "created_at": _t(t["created_at"]),
                "priority": t.get("priority"),
                "group": t.get("group") or None,
                "agent": t.get("assignee_id") or None,
                "intent": intent,
                "channel": CHANNEL.get(channel, channel) if channel else "unknown",
                "status": status,
                "history_exported": history_exported,
                "first_reply_at": replies[0] if replies and history_exported else pd.NaT,
                "agent_replies": len(replies) if history_exported else np.nan,
                "reopens": reopens if history_exported else np.nan,
                "is_solved": solved_now,
                "solved_at": solved_at,
                "solved_by_agent": solved_now and bool(solves) and latest_solve_author != "system",
                "waits": waits,
                "unanswered_until": (solved_at if solved_now else end) if history_exported and not replies else pd.NaT,
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    for column in ("created_at", "first_reply_at", "solved_at", "unanswered_until"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    group = frame["group"]
    minutes = (frame["first_reply_at"] - frame["created_at"]).dt.total_seconds() / 60
    frame["first_reply_calendar_minutes"] = minutes
    frame["first_reply_business_minutes"] = hours.minutes(group, frame["created_at"], frame["first_reply_at"])
    frame["resolution_calendar_minutes"] = (frame["solved_at"] - frame["created_at"]).dt.total_seconds() / 60
    frame["resolution_business_minutes"] = hours.minutes(group, frame["created_at"], frame["solved_at"])
    frame["unanswered_business_minutes"] = hours.minutes(group, frame["created_at"], frame["unanswered_until"])
    wait_cal, wait_bus = [], []
    for waits, g, exported, solved in frame[["waits", "group", "history_exported", "is_solved"]].itertuples(False):
        if not (exported and solved):
            wait_cal.append(np.nan)
            wait_bus.append(np.nan)
            continue
        starts = pd.Series([a for a, _ in waits], dtype="datetime64[us]")
        stops = pd.Series([b for _, b in waits], dtype="datetime64[us]")
        wait_cal.append(float(((stops - starts).dt.total_seconds() / 60).sum()))
        business = hours.minutes(pd.Series([g] * len(waits), dtype=object), starts, stops)
        wait_bus.append(np.nan if business.isna().any() else float(business.sum()))
    frame["requester_wait_calendar_minutes"] = wait_cal
    frame["requester_wait_business_minutes"] = wait_bus
    target = frame["priority"].map(FIRST_REPLY_TARGET_HOURS) * 60.0
    replied = frame["first_reply_at"].notna() & frame["first_reply_business_minutes"].notna()
    late_unanswered = frame["unanswered_business_minutes"] > target  # NaN (answered, not exported) is False
    # A ticket without a priority has no target: not judged (the docs name a target per priority only).
    frame["sla_judged"] = (target.notna() & (replied | late_unanswered)).astype(int)
    frame["sla_met"] = (target.notna() & replied & (frame["first_reply_business_minutes"] <= target)).astype(int)
    solved_hist = frame["is_solved"] & frame["history_exported"]
    frame["created"] = 1
    frame["first_replied"] = frame["first_reply_at"].notna().astype(int)
    frame["solved"] = frame["is_solved"].astype(int)
    frame["solved_with_history"] = solved_hist.astype(int)
    frame["solved_agent_replies"] = frame["agent_replies"].where(solved_hist, 0).fillna(0)
    frame["one_touch"] = (
        solved_hist & frame["solved_by_agent"] & (frame["agent_replies"] == 1) & (frame["reopens"] == 0)
    ).astype(int)
    frame["reopened"] = (solved_hist & (frame["reopens"] >= 1)).astype(int)
    return frame


def _ticket_frame(h: Hierarchy) -> pd.DataFrame:
    cached = getattr(h, "_ticket_timed", None)
    if cached is None:
        cached = timed(h.exports.tickets, h.kb.intent_of)
        object.__setattr__(h, "_ticket_timed", cached)
    return cached


def _created(h: Hierarchy, num: str, den: str | None) -> pd.DataFrame:
    return _slices(_ticket_frame(h), num, den, DIMENSIONS, "created_at")


def _solved(h: Hierarchy, num: str, den: str | None) -> pd.DataFrame:
    frame = _ticket_frame(h)
    return _slices(frame[frame["is_solved"]], num, den, DIMENSIONS, "solved_at")


def tickets_created(h: Hierarchy) -> pd.DataFrame:
    return _created(h, "created", None)


def first_reply_business(h: Hierarchy) -> pd.DataFrame:
    return _created(h, "first_reply_business_minutes", "first_replied")


def first_reply_calendar(h: Hierarchy) -> pd.DataFrame:
    return _created(h, "first_reply_calendar_minutes", "first_replied")


def sla_attainment(h: Hierarchy) -> pd.DataFrame:
    return _created(h, "sla_met", "sla_judged")


def tickets_solved(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "solved", None)


def resolution_business(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "resolution_business_minutes", "solved")


def resolution_calendar(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "resolution_calendar_minutes", "solved")


def requester_wait_business(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "requester_wait_business_minutes", "solved_with_history")


def requester_wait_calendar(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "requester_wait_calendar_minutes", "solved_with_history")


def agent_replies_per_ticket(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "solved_agent_replies", "solved_with_history")


def one_touch(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "one_touch", "solved_with_history")


def reopen_rate(h: Hierarchy) -> pd.DataFrame:
    return _solved(h, "reopened", "solved_with_history")


def backlog_rows(tickets: list[dict], end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Tickets new, open, pending or on hold at the end of each day (UTC), per group and status: each ticket's status
    at a day's end is its latest status change before midnight; days run from the first creation to the export's end."""
    end = data_end(tickets) if end is None else end
    rows = []
    if not tickets or pd.isna(end):
        return pd.DataFrame(columns=["day", "group", "status", "n"])
    last_day = end.floor("D")
    for t in tickets:
        created = _t(t["created_at"])
        history = _history(t) or [(created, t["status"], None)]
        day = created.floor("D")
        while day <= last_day:
            midnight = day + pd.Timedelta(days=1)
            before = [value for at, value, _ in history if at < midnight]
            if created < midnight and before and before[-1] in OPEN_STATUSES:
                rows.append({"day": day.strftime("%Y-%m-%d"), "group": t.get("group") or None, "status": before[-1]})
            day = midnight
    frame = pd.DataFrame(rows, columns=["day", "group", "status"])
    frame["n"] = 1
    return frame


def backlog(h: Hierarchy) -> pd.DataFrame:
    return _slices(backlog_rows(h.exports.tickets), "n", None, ["day", "group", "status"])
