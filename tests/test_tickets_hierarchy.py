"""Tickets in the five levels (docs/domain.md section 4, "Tickets"), on a hand-made landing folder: a ticket's
requests are transactions, the requester's e-mail links it to the CRM and to calls, and a ticket and a call on the
same problem are one engagement."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
from conftest import load_landing

from contact_warehouse.loading.sources import EXPORTS_BY_NAME

CALL_HEADER = EXPORTS_BY_NAME["calls"].main_table.column_names


def comment(cid: str, at: str, role: str, body: str, public: bool = True, author: str | None = None) -> dict:
    return {"id": cid, "created_at": at, "author_role": role, "author_id": author, "public": public, "body": body}


def change(at: str, role: str, previous: str | None, value: str) -> dict:
    return {"created_at": at, "author_role": role, "previous_value": previous, "value": value}


def ticket(ticket_id: str, email: str, tag: str, comments: list[dict], changes: list[dict]) -> dict:
    status = changes[-1]["value"]
    solved = [c["created_at"] for c in changes if c["value"] == "solved"]
    return {
        "id": ticket_id,
        "subject": "help",
        "created_at": comments[0]["created_at"],
        "updated_at": max(c["created_at"] for c in comments + changes),
        "solved_at": solved[-1] if status in ("solved", "closed") else None,
        "closed_at": changes[-1]["created_at"] if status == "closed" else None,
        "via": {"channel": "email"},
        "status": status,
        "priority": "normal",
        "requester": {"email": email, "phone": None, "customer_ref": None},
        "assignee_id": "A1",
        "group": "billing",
        "tags": [tag],
        "satisfaction_rating": None,
        "status_changes": changes,
        "comments": comments,
    }


def write_landing(landing: Path) -> None:
    (landing / "customers").mkdir(parents=True)
    with open(landing / "customers" / "customers_2026-10-20.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["customer_ref", "email", "phone", "value_tier", "timezone", "created_at", "churned_at"])
        writer.writerow(["C1", "ann@example.com", "", "standard", "America/New_York", "2025-01-01T00:00:00Z", ""])
        writer.writerow(["C2", "bob@example.com", "", "standard", "America/New_York", "2025-01-01T00:00:00Z", ""])
        writer.writerow(["C3", "cy@example.com", "", "standard", "America/New_York", "2025-01-01T00:00:00Z", ""])
    auto = "We received your request."
    tickets = [
        # Ann writes about her bill; the agent asks for details; two days later she calls about it instead.
        ticket(
            "TA",
            " Ann@Example.COM",
            "cat_billing",
            [
                comment("a1", "2026-10-05T14:00:00Z", "end-user", "I was charged twice"),
                comment("a2", "2026-10-05T14:00:30Z", "system", auto),
                comment("a3", "2026-10-05T14:30:00Z", "agent", "checking the ledger", public=False, author="A1"),
                comment("a4", "2026-10-05T15:00:00Z", "agent", "Which bill do you mean?", author="A1"),
            ],
            [
                change("2026-10-05T14:00:00Z", "end-user", None, "new"),
                change("2026-10-05T15:00:00Z", "agent", "new", "pending"),
            ],
        ),
        # Bob's ticket is solved by the first reply: first-contact resolution.
        ticket(
            "TB",
            "bob@example.com",
            "cat_billing",
            [
                comment("b1", "2026-10-05T16:00:00Z", "end-user", "Why is my bill higher?"),
                comment("b2", "2026-10-05T17:00:00Z", "agent", "The promotion ended; here is why.", author="A1"),
            ],
            [
                change("2026-10-05T16:00:00Z", "end-user", None, "new"),
                change("2026-10-05T17:00:00Z", "agent", "new", "solved"),
                change("2026-10-09T17:00:00Z", "system", "solved", "closed"),
            ],
        ),
        # Cy's ticket is solved too early and reopened: the reopening is a further contact on the problem.
        ticket(
            "TC",
            "cy@example.com",
            "cat_technical",
            [
                comment("c1", "2026-10-05T18:00:00Z", "end-user", "No connection"),
                comment("c2", "2026-10-06T13:00:00Z", "agent", "Fixed, please restart.", author="A1"),
                comment("c3", "2026-10-06T20:00:00Z", "end-user", "Still not working"),
                comment("c4", "2026-10-07T14:00:00Z", "agent", "A technician fixed the line.", author="A1"),
            ],
            [
                change("2026-10-05T18:00:00Z", "end-user", None, "new"),
                change("2026-10-06T13:00:00Z", "agent", "new", "solved"),
                change("2026-10-06T20:00:00Z", "end-user", "solved", "open"),
                change("2026-10-07T14:00:00Z", "agent", "open", "solved"),
            ],
        ),
    ]
    (landing / "tickets").mkdir()
    (landing / "tickets" / "tickets_2026-10-07.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tickets))
    (landing / "calls").mkdir()
    with open(landing / "calls" / "calls_2026-10-20.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CALL_HEADER)
        writer.writerow(
            ["k1", "", "inbound", "", "+18005550100", "C1", "billing", "A2", "2026-10-07T15:00:00Z",
             "2026-10-07T15:00:30Z", "2026-10-07T15:01:00Z", "2026-10-07T15:09:00Z", "0", "0", "30", "completed",
             "billing_inquiry", "true"]
        )  # fmt: skip
        # A stranger's call ten days later: the data reach past every engagement's window.
        writer.writerow(
            ["k2", "", "inbound", "", "+18005550100", "C9", "sales", "A2", "2026-10-20T15:00:00Z",
             "2026-10-20T15:00:30Z", "2026-10-20T15:01:00Z", "2026-10-20T15:05:00Z", "0", "0", "30", "completed",
             "", "true"]
        )  # fmt: skip


def test_an_email_then_a_call_on_the_same_problem_is_one_engagement(tmp_path: Path, warehouse: Path, dbt) -> None:
    landing = tmp_path / "landing"
    write_landing(landing)
    load_landing(warehouse, landing)
    dbt(
        [
            "build",
            "--select",
            "+fct_engagements",
            "+fct_events",
            "+fct_interactions",
            "--exclude",
            "resource_type:test",
            "resource_type:unit_test",
        ],
        warehouse,
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        transactions = con.execute(
            """select transaction_id, channel, initiated_by, is_resolved, is_resolution_known, intent
               from marts.fct_transactions where channel = 'email' order by 1"""
        ).fetchall()
        engagements = con.execute(
            """select min(transactions.source_id), engagements.channel_path, engagements.interactions_count,
                      engagements.is_first_contact_resolved
               from marts.fct_engagements as engagements
               inner join marts.fct_interactions as interactions
                   on interactions.engagement_id = engagements.engagement_id
               inner join marts.fct_transactions as transactions
                   on transactions.interaction_id = interactions.interaction_id
               where engagements.intent <> 'unknown'
               group by engagements.engagement_id, engagements.channel_path, engagements.interactions_count,
                        engagements.is_first_contact_resolved, engagements.started_at
               -- Cy's two engagements share the first two columns: their start orders them, not the engine.
               order by 1, 2, engagements.started_at"""
        ).fetchall()
        events = dict(
            con.execute(
                "select event_type, count(*) from marts.fct_events where channel = 'email' group by 1"
            ).fetchall()
        )
    # A ticket's requests: Ann's one (answered, not solved), Bob's one (solved), Cy's two (solved, reopened).
    assert transactions == [
        ("ticket:TA:1", "email", "customer", False, True, "billing_question"),
        ("ticket:TB:1", "email", "customer", True, True, "billing_question"),
        ("ticket:TC:1", "email", "customer", True, True, "technical_fault"),
        ("ticket:TC:2", "email", "customer", True, True, "technical_fault"),
    ]
    assert engagements == [
        # Ann's e-mail and her call two days later: one engagement, not resolved at first contact.
        ("TA", "email > voice", 2, False),
        ("TB", "email", 1, True),
        # Solved too early: the reopening opens a new engagement and the first is no first-contact resolution.
        ("TC", "email", 1, False),
        ("TC", "email", 1, True),
    ]
    assert events == {
        "ticket_requester": 4,
        "ticket_agent_reply": 4,
        "ticket_internal_note": 1,
        "ticket_automatic": 1,
        "ticket_status_change": 9,
    }
