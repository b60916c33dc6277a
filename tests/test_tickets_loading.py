"""The help desk's `tickets` export (JSON lines, one ticket per line): flattened into four raw tables, bad
tickets quarantined whole with file, line and field, re-deliveries of a ticket kept apart by load order."""

from __future__ import annotations

import json
from pathlib import Path

from contact_warehouse.loading.loader import connect_for_loading as connect
from contact_warehouse.loading.loader import load_export


def ticket(ticket_id: str, **changes) -> dict:
    doc = {
        "id": ticket_id,
        "subject": "Charged twice",
        "created_at": "2026-10-05T09:00:00-04:00",
        "updated_at": "2026-10-05T10:30:00-04:00",
        "solved_at": "2026-10-05T10:30:00-04:00",
        "closed_at": None,
        "via": {"channel": "email"},
        "status": "solved",
        "priority": "normal",
        "requester": {"email": "Ann@Example.com", "phone": None, "customer_ref": "C1"},
        "assignee_id": "A001",
        "group": "billing",
        "tags": ["billing", "refund"],
        "satisfaction_rating": {"score": "good", "created_at": "2026-10-05T12:00:00-04:00"},
        "status_changes": [
            {
                "created_at": "2026-10-05T09:00:00-04:00",
                "author_role": "end-user",
                "previous_value": None,
                "value": "new",
            },
            {
                "created_at": "2026-10-05T10:30:00-04:00",
                "author_role": "agent",
                "previous_value": "new",
                "value": "solved",
            },
        ],
        "comments": [
            {
                "id": f"{ticket_id}-1",
                "created_at": "2026-10-05T09:00:00-04:00",
                "author_role": "end-user",
                "author_id": None,
                "public": True,
                "body": "I was charged twice",
            },
            {
                "id": f"{ticket_id}-2",
                "created_at": "2026-10-05T09:00:05-04:00",
                "author_role": "system",
                "author_id": None,
                "public": True,
                "body": "We received your request",
            },
            {
                "id": f"{ticket_id}-3",
                "created_at": "2026-10-05T10:30:00-04:00",
                "author_role": "agent",
                "author_id": "A001",
                "public": True,
                "body": "Refunded",
            },
        ],
    }
    doc.update(changes)
    return doc


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_tickets_load_into_four_tables_and_bad_tickets_are_quarantined_by_field(warehouse: Path, tmp_path: Path):
    landing = tmp_path / "landing"
    bad_comment = ticket("T4")
    bad_comment["comments"][2]["author_role"] = "robot"
    write_lines(
        landing / "tickets" / "tickets_2026-10-05.jsonl",
        [
            json.dumps(ticket("T1")),
            "{not json",
            json.dumps(ticket("T3", status="escalated")),
            json.dumps(bad_comment),
            json.dumps(ticket("T5", created_at="yesterday")),
            json.dumps(ticket("T6", solved_at="2026-10-04T09:00:00Z")),
            json.dumps(ticket("T7", satisfaction_rating=None, tags=[], status_changes=[])),
        ],
    )
    con = connect(warehouse)
    try:
        report = load_export(con, "tickets", landing)
        result = report.files[0]
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 2, 5)
        quarantine = con.execute("select line, field, reason from raw._quarantine order by line").fetchall()
        assert quarantine == [
            (2, "*", "invalid JSON"),
            (3, "status", "status not one of ('new', 'open', 'pending', 'hold', 'solved', 'closed') 'escalated'"),
            (4, "comments[].author_role", "author_role not one of end-user, agent, system 'robot'"),
            (5, "created_at", "unparseable timestamp 'yesterday'"),
            (6, "solved_at", "solved before it was created '2026-10-04T09:00:00Z'"),
        ]
        assert con.execute("select ticket_id, cast(created_at as varchar) from raw.tickets order by 1").fetchall() == [
            ("T1", "2026-10-05 13:00:00"),
            ("T7", "2026-10-05 13:00:00"),
        ]
        assert con.execute(
            "select requester_email, via_channel, group_name, satisfaction_score from raw.tickets "
            "where ticket_id = 'T1'"
        ).fetchone() == ("Ann@Example.com", "email", "billing", "good")
        # A ticket's comments, tags and status changes are loaded with it, or quarantined with it.
        comments = con.execute(
            "select comment_index, author_role, public from raw.ticket_comments where ticket_id = 'T1' order by 1"
        ).fetchall()
        assert comments == [(0, "end-user", True), (1, "system", True), (2, "agent", True)]
        assert con.execute("select count(*) from raw.ticket_comments").fetchone()[0] == 6
        assert con.execute("select ticket_id, tag from raw.ticket_tags order by tag_index").fetchall() == [
            ("T1", "billing"),
            ("T1", "refund"),
        ]
        changes = con.execute(
            "select previous_value, value from raw.ticket_status_changes order by change_index"
        ).fetchall()
        assert changes == [(None, "new"), ("new", "solved")]
        ledger = con.execute("select rows_read, rows_loaded, rows_rejected from raw._load_ledger").fetchall()
        assert ledger == [(7, 2, 5)]
    finally:
        con.close()


def test_a_ticket_redelivered_the_next_day_is_loaded_again(warehouse: Path, tmp_path: Path) -> None:
    """A help desk's incremental export repeats a ticket in the file of every day it changed."""
    landing = tmp_path / "landing"
    write_lines(landing / "tickets" / "tickets_2026-10-05.jsonl", [json.dumps(ticket("T1", status="open"))])
    write_lines(landing / "tickets" / "tickets_2026-10-06.jsonl", [json.dumps(ticket("T1"))])
    con = connect(warehouse)
    try:
        load_export(con, "tickets", landing)
        rows = con.execute("select status from raw.tickets order by _load_seq").fetchall()
        assert rows == [("open",), ("solved",)]
    finally:
        con.close()
