"""Help-desk tickets in the reference (DOMAIN.md section 1 "tickets" and section 4 "Tickets"), from the raw export.

A ticket's transactions are its requests: a request starts at the ticket's first public requester or agent comment
and at each requester comment after an agent reply; its time is the writing side's comments; it is resolved when
someone other than the automation (author ``system``) sets the ticket solved before the next request starts; its
resolution is known once an agent answered it or the ticket is solved or closed.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pandas as pd

from tests.reference.exports import to_utc
from tests.reference.identity import Identifier, identifiers

STATUSES = {"new", "open", "pending", "hold", "solved", "closed"}


def read_tickets(landing: Path, rejected: Counter) -> list[dict]:
    """Every ticket as last delivered (the incremental export repeats a ticket on each day it changed)."""
    tickets: dict[str, dict] = {}
    for path in sorted((landing / "tickets").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not item.get("id") or not item.get("created_at") or item.get("status") not in STATUSES:
                    raise ValueError("missing id, created_at or status")
            except (ValueError, TypeError, AttributeError):
                rejected["tickets"] += 1
                continue
            tickets.pop(item["id"], None)
            tickets[item["id"]] = item
    for item in read_ticket_csv(landing, rejected):
        tickets.pop(item["id"], None)
        tickets[item["id"]] = item
    return list(tickets.values())


# mapping_profiles/ticket_csv.yml: a help desk's one-row-per-ticket report (landing folder `ticket_csv`), times
# "%Y-%m-%d %H:%M:%S" in UTC. What one row tells becomes the ticket's history, as the profile documents: the
# requester's opening message (its subject) at creation, `new` at creation and `solved` at its solve time; its
# messages and status history are not exported (`history_exported` false).
CSV_CHANNELS = {"email", "web", "phone", "api", "chat"}


def _csv_time(value: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%dT%H:%M:%SZ")


def read_ticket_csv(landing: Path, rejected: Counter) -> list[dict]:
    out = []
    for path in sorted((landing / "ticket_csv").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                row = {k: (v or "").strip() for k, v in row.items()}
                try:
                    created, solved = _csv_time(row["Created At"]), _csv_time(row["Solved At"])
                    status = row["Status"].lower()
                    if not row["Ticket ID"] or created is None or status not in STATUSES:
                        raise ValueError("missing id, created_at or status")
                    if solved is not None and solved < created:
                        raise ValueError("solved before it was created")
                    if row["Channel"] and row["Channel"].lower() not in CSV_CHANNELS:
                        raise ValueError("unknown channel")
                except (ValueError, KeyError):
                    rejected["ticket_csv"] += 1
                    continue
                changes = [{"created_at": created, "author_role": None, "previous_value": None, "value": "new"}]
                if solved is not None:
                    changes.append(
                        {"created_at": solved, "author_role": None, "previous_value": "new", "value": "solved"}
                    )
                score = row["Satisfaction"].lower()
                out.append(
                    {
                        "id": row["Ticket ID"],
                        "subject": row["Subject"],
                        "created_at": created,
                        "updated_at": _csv_time(row["Updated At"]),
                        "solved_at": solved,
                        "closed_at": None,
                        "via": {"channel": row["Channel"].lower() or None},
                        "status": status,
                        "priority": row["Priority"].lower() or None,
                        "requester": {
                            "email": row["Requester Email"] or None,
                            "phone": row["Requester Phone"] or None,
                            "customer_ref": row["Customer Ref"] or None,
                        },
                        "assignee_id": row["Assignee ID"] or None,
                        "group": row["Group"] or None,
                        "tags": [row["Category"]] if row["Category"] else [],
                        "satisfaction_rating": {"score": score} if score else None,
                        "history_exported": False,
                        "status_changes": changes,
                        "comments": [
                            {
                                "id": f"{row['Ticket ID']}-opening",
                                "created_at": created,
                                "author_role": "end-user",
                                "author_id": None,
                                "public": True,
                                "body": row["Subject"],
                            }
                        ],
                    }
                )
    return out


def identity_records(tickets: list[dict]) -> list[tuple[str, list[Identifier]]]:
    out = []
    for t in tickets:
        requester = t.get("requester") or {}
        ids = identifiers(
            customer_ref=requester.get("customer_ref"), phone=requester.get("phone"), email=requester.get("email")
        )
        out.append((f"ticket:{t['id']}", ids))
    return out


def _kind(comment: dict) -> str:
    if not comment.get("public"):
        return "internal_note"
    if comment.get("author_role") == "system":
        return "automatic"
    return "requester" if comment.get("author_role") == "end-user" else "agent_reply"


def transactions(tickets: list[dict], intent_of) -> pd.DataFrame:
    rows = []
    for t in tickets:
        comments = sorted(
            ({**c, "at": to_utc(pd.Series([c["created_at"]]))[0], "index": k} for k, c in enumerate(t["comments"])),
            key=lambda c: (c["at"], c["index"]),
        )
        turns = [c for c in comments if _kind(c) in ("requester", "agent_reply")]
        requests: list[list[dict]] = []
        previous = None
        for c in turns:
            kind = _kind(c)
            if previous is None or (kind == "requester" and previous == "agent_reply"):
                requests.append([])
            requests[-1].append(c)
            previous = kind
        solves = [
            to_utc(pd.Series([s["created_at"]]))[0]
            for s in t.get("status_changes") or []
            if s.get("value") == "solved" and s.get("author_role") != "system"
        ]
        intent = intent_of([("ticket_tag", tag) for tag in t.get("tags") or []])
        for n, request in enumerate(requests, start=1):
            start = request[0]["at"]
            following = requests[n][0]["at"] if n < len(requests) else None
            opened_by = _kind(request[0])
            own = [c["at"] for c in request if _kind(c) == opened_by]
            replies = [c for c in request if _kind(c) == "agent_reply"]
            resolved = any(s >= start and (following is None or s < following) for s in solves)
            rows.append(
                {
                    "transaction_id": f"ticket:{t['id']}:{n}",
                    "transaction_type": "ticket_request",
                    "contact_id": f"ticket:{t['id']}:{n}",
                    "record_id": f"ticket:{t['id']}",
                    "started_at": start,
                    "ended_at": max(own),
                    "intent": intent,
                    "is_resolved": resolved,
                    "resolution_known": resolved
                    or bool(replies)
                    or following is not None
                    or t["status"] in ("solved", "closed"),
                    "outcome": "solved" if resolved else "answered" if replies else "unanswered",
                    "direction": "inbound" if opened_by == "requester" else "outbound",
                    "agent_id": replies[0].get("author_id") if replies else t.get("assignee_id"),
                    "queue": t.get("group"),
                    "source_id": t["id"],
                }
            )
    return pd.DataFrame(rows)


# docs/kpis.md (CSAT) and DECISIONS "Ticket ratings are CSAT answers": good scores 5 (satisfied), bad 1 (not);
# offered (asked, never answered), unoffered and a null rating are no answer.
RATING_SCORES = {"good": 5.0, "bad": 1.0}


def rating_answers(tickets: list[dict], transactions: pd.DataFrame) -> pd.DataFrame:
    """The help desk's satisfaction ratings as CSAT answers of the `email` channel: dated when given, else at the
    ticket's solve (its `solved_at`; a given rating with neither date is dated at the export's `updated_at`, a case
    the docs leave open); each rates the ticket's last request started before it, whose agent it counts for (none
    when no request started before it: the answer still counts, for no agent)."""
    requests = transactions[transactions["transaction_type"] == "ticket_request"] if len(transactions) else None
    rows = []
    for t in tickets:
        rating = t.get("satisfaction_rating") or {}
        score = RATING_SCORES.get(rating.get("score")) if isinstance(rating, dict) else None
        if score is None:
            continue
        stamp = rating.get("created_at") or t.get("solved_at") or t.get("updated_at")
        rated_at = to_utc(pd.Series([stamp]))[0]
        rated = None
        if requests is not None:
            own = requests[(requests["source_id"] == t["id"]) & (requests["started_at"] < rated_at)]
            if len(own):
                rated = own.sort_values(["started_at", "transaction_id"]).iloc[-1]
        rows.append(
            {
                "survey_type": "csat",
                "channel": "email",
                "score": score,
                "responded_at": rated_at,
                "transaction_id": None if rated is None else rated["transaction_id"],
                "agent_id": None if rated is None else rated["agent_id"],
            }
        )
    columns = ["survey_type", "channel", "score", "responded_at", "transaction_id", "agent_id"]
    return pd.DataFrame(rows, columns=columns)
