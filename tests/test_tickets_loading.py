"""The help desk's `tickets` export (JSON lines, one ticket per line): flattened into four raw tables, bad
tickets quarantined whole with file, line and field, re-deliveries of a ticket kept apart by load order."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

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


def chat(conversation_id: str, tags: list[str]) -> dict:
    return {
        "id": conversation_id,
        "created_at": "2026-10-05T12:00:00Z",
        "closed_at": "2026-10-05T12:10:00Z",
        "visitor": {"visitor_id": "v1", "email": "ann@example.com", "phone": None, "customer_ref": "C1"},
        "bot": {"intent": None, "handed_over_at": None},
        "agent_id": "A001",
        "tags": tags,
        "rating": None,
        "resolved": True,
        "messages": [
            {"id": f"{conversation_id}-m1", "sent_at": "2026-10-05T12:00:00Z", "author": "customer", "text": "hi"}
        ],
    }


def test_a_redelivery_with_fewer_tags_drops_the_old_extra_ones(warehouse: Path, tmp_path: Path, dbt) -> None:
    """Child rows of the latest delivery of the parent win (macro latest_delivery_children): a ticket re-delivered
    with one tag of two, and a shorter status history, keeps only those; a chat re-delivered with fewer tags,
    or none, likewise. Built once per delivery, as the nightly incremental run does, then from scratch."""
    landing = tmp_path / "landing"
    reopened = ticket("T1")["status_changes"][:1]
    write_lines(landing / "tickets" / "tickets_2026-10-05.jsonl", [json.dumps(ticket("T1"))])
    write_lines(
        landing / "chat_conversations" / "chat_conversations_2026-10-05.jsonl",
        [json.dumps(chat("C1", ["billing", "refund"])), json.dumps(chat("C2", ["vip"]))],
    )
    select = ["build", "--select", "stg_tickets__tags", "stg_tickets__status_changes", "stg_chat__tags"]

    def load_and_build(*extra: str) -> dict[str, list[tuple]]:
        con = connect(warehouse)
        try:
            load_export(con, "tickets", landing)
            load_export(con, "chat_conversations", landing)
        finally:
            con.close()
        dbt([*select, "--exclude", "resource_type:test", "resource_type:unit_test", *extra], warehouse)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return {
                "ticket_tags": con.execute(
                    "select ticket_id, tag from staging.stg_tickets__tags order by all"
                ).fetchall(),
                "changes": con.execute(
                    "select ticket_id, status from staging.stg_tickets__status_changes order by all"
                ).fetchall(),
                "chat_tags": con.execute(
                    "select conversation_id, tag from staging.stg_chat__tags order by all"
                ).fetchall(),
            }

    first = load_and_build()
    assert first == {
        "ticket_tags": [("T1", "billing"), ("T1", "refund")],
        "changes": [("T1", "new"), ("T1", "solved")],
        "chat_tags": [("C1", "billing"), ("C1", "refund"), ("C2", "vip")],
    }
    # The next day: the ticket comes again with only its second tag (now at position 0) and its history cut to
    # the first change; C1 with its second tag only, C2 without tags.
    write_lines(
        landing / "tickets" / "tickets_2026-10-06.jsonl",
        [json.dumps(ticket("T1", tags=["refund"], status="new", status_changes=reopened))],
    )
    write_lines(
        landing / "chat_conversations" / "chat_conversations_2026-10-06.jsonl",
        [json.dumps(chat("C1", ["refund"])), json.dumps(chat("C2", []))],
    )
    expected = {"ticket_tags": [("T1", "refund")], "changes": [("T1", "new")], "chat_tags": [("C1", "refund")]}
    assert load_and_build() == expected
    assert load_and_build("--full-refresh") == expected
