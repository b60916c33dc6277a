"""The reference itself on tiny hand-made landing folders: the definitions where it disagrees with the marts.

A reference that is wrong proves nothing, so each definition it is used to challenge is checked here on a case
small enough to count by hand.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.reference import kpis
from tests.reference.exports import HEADERS, read_exports
from tests.reference.hierarchy import Hierarchy, build

DAY = "2026-10-05"
CUSTOMERS = [
    {"customer_ref": f"C00000{n}", "email": f"c{n}@example.com", "phone": f"+1202555010{n}", "value_tier": "standard",
     "timezone": "America/New_York", "created_at": "2020-01-01T00:00:00Z"}
    for n in range(1, 7)
]  # fmt: skip
COMPANY = "+18882735500"


def _write(landing: Path, export: str, rows: list[dict]) -> None:
    folder = landing / export
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{export}_{DAY}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADERS[export])
        writer.writeheader()
        writer.writerows(rows)


def _landing(tmp_path: Path, **exports: list[dict]) -> Hierarchy:
    _write(tmp_path, "customers", CUSTOMERS)
    chats = exports.pop("chats", [])
    forms = exports.pop("forms", [])
    for export, rows in exports.items():
        _write(tmp_path, export, rows)
    (tmp_path / "chat_conversations").mkdir()
    (tmp_path / "chat_conversations" / f"chat_conversations_{DAY}.jsonl").write_text(
        "".join(json.dumps(chat) + "\n" for chat in chats)
    )
    (tmp_path / "form_submissions").mkdir()
    (tmp_path / "form_submissions" / f"form_submissions_{DAY}.json").write_text(json.dumps({"items": forms}))
    return build(read_exports(tmp_path))


def call(call_id: str, phone: str, start: str, minutes: int = 5, **fields: str) -> dict:
    """An answered inbound leg of ``minutes`` starting at ``start`` (HH:MM on DAY, UTC), unless fields say else."""
    hour, minute = map(int, start.split(":"))
    end_minute = hour * 60 + minute + minutes
    row = {
        "call_id": call_id, "direction": "inbound", "from_number": phone, "to_number": COMPANY, "queue": "billing",
        "agent_id": "A001", "started_at": f"{DAY}T{start}:00Z", "queued_at": f"{DAY}T{start}:10Z",
        "answered_at": f"{DAY}T{start}:30Z", "ended_at": f"{DAY}T{end_minute // 60:02d}:{end_minute % 60:02d}:00Z",
        "hold_seconds": "0", "silence_seconds": "0", "wrap_seconds": "0", "status": "completed",
    }  # fmt: skip
    row.update(fields)
    if row["direction"] == "outbound":
        row.update(from_number=COMPANY, to_number=phone, queue="", queued_at="")
    return row


def _value(frame, slice_name: str = "all") -> tuple[float, float]:
    row = frame.set_index("slice").loc[slice_name]
    return row["num"], row["den"]


def test_transfer_rate_counts_answered_inbound_calls_only(tmp_path: Path) -> None:
    h = _landing(
        tmp_path,
        calls=[
            call("CA1", "+12025550101", "10:00"),
            call("CA1b", "+12025550101", "10:05", parent_call_id="CA1", queue="retention"),
            call("CA2", "+12025550102", "11:00"),
            call("CA3", "+12025550103", "12:00", direction="outbound"),  # a company call: not in the denominator
        ],
    )
    assert _value(kpis.transfer_rate(h)) == (1, 2)


def test_self_service_failure_counts_customer_contacts_after_the_use(tmp_path: Path) -> None:
    views = [
        # C1 reads a login article; the company then texts a one-time code: no failure
        {"view_id": "FV1", "article_id": "KB-1001", "visitor_id": "v1", "customer_ref": "C000001",
         "viewed_at": f"{DAY}T09:00:00Z", "seconds_on_page": "60"},
        # C2 reads it and calls about login two hours later: a failure
        {"view_id": "FV2", "article_id": "KB-1001", "visitor_id": "v2", "customer_ref": "C000002",
         "viewed_at": f"{DAY}T09:00:00Z", "seconds_on_page": "60"},
        # C3 is on the phone already while reading (the call started during the visit): no failure
        {"view_id": "FV3", "article_id": "KB-1001", "visitor_id": "v3", "customer_ref": "C000003",
         "viewed_at": f"{DAY}T09:00:00Z", "seconds_on_page": "600"},
    ]  # fmt: skip
    h = _landing(
        tmp_path,
        faq_views=views,
        sms=[
            {
                "message_id": "SM1",
                "thread_id": "TH1",
                "direction": "outbound",
                "from_number": COMPANY,
                "to_number": "+12025550101",
                "sent_at": f"{DAY}T09:05:00Z",
                "body": "Your code is 1234",
                "status": "delivered",
            }
        ],  # fmt: skip
        calls=[
            call("CA2", "+12025550102", "11:00", disposition="login_reset"),
            call("CA3", "+12025550103", "09:02", disposition="login_reset"),
        ],
    )
    assert _value(kpis.self_service_failure(h)) == (1, 3)
    assert _value(kpis.self_service_failure_by_article(h), "article_id=KB-1001") == (1, 3)


def test_repeat_contacts_are_customer_initiated_on_a_known_intent(tmp_path: Path) -> None:
    h = _landing(
        tmp_path,
        calls=[
            # C1 calls about billing, the company calls back the next hour: no repeat contact
            call("CA1", "+12025550101", "08:00", disposition="billing_inquiry"),
            call("CA1b", "+12025550101", "10:00", direction="outbound", disposition="billing_inquiry"),
            # C2 calls twice about billing: the first call is a repeat contact
            call("CA2", "+12025550102", "08:00", disposition="billing_inquiry"),
            call("CA2b", "+12025550102", "12:00", disposition="billing_inquiry"),
        ],
        sms=[  # C3 texts twice without any code: unknown intent, never "the same intent"
            {
                "message_id": f"SM{n}",
                "thread_id": f"TH{n}",
                "direction": "inbound",
                "from_number": "+12025550103",
                "to_number": COMPANY,
                "sent_at": f"{DAY}T{8 + 3 * n:02d}:00:00Z",
                "body": "hello",
                "status": "received",
            }
            for n in (1, 2)
        ],  # fmt: skip
    )
    assert _value(kpis.repeat_contact(h)) == (1, 4)


def test_a_company_callback_after_a_form_is_no_duplicate(tmp_path: Path) -> None:
    forms = [
        {"response_id": "r1", "form_id": "callback_request", "submitted_at": f"{DAY}T08:00:00Z",
         "hidden": {"visitor_id": "v1"}, "answers": [{"field": "email", "type": "email", "value": "c1@example.com"},
                                                     {"field": "topic", "type": "dropdown", "value": "billing"}]},
        {"response_id": "r2", "form_id": "contact_us_v3", "submitted_at": f"{DAY}T08:00:00Z",
         "hidden": {"visitor_id": "v2"}, "answers": [{"field": "email", "type": "email", "value": "c2@example.com"},
                                                     {"field": "topic", "type": "dropdown", "value": "login"}]},
    ]  # fmt: skip
    chat = {
        "id": "CH1", "created_at": f"{DAY}T09:00:00Z", "closed_at": f"{DAY}T09:10:00Z",
        "visitor": {"visitor_id": "v2", "email": "c2@example.com", "phone": None, "customer_ref": "C000002"},
        "bot": {"intent": "account.login_problem", "handed_over_at": f"{DAY}T09:01:00Z"}, "agent_id": "A002",
        "tags": ["login"], "rating": None, "resolved": True,
        "messages": [{"id": "M1", "sent_at": f"{DAY}T09:00:00Z", "author": "customer", "text": "locked out"}],
    }  # fmt: skip
    h = _landing(
        tmp_path,
        forms=forms,
        chats=[chat],
        calls=[call("CA1", "+12025550101", "09:00", direction="outbound", disposition="billing_inquiry")],
    )
    assert _value(kpis.cross_channel_duplicates(h)) == (1, 2)


@pytest.mark.parametrize("refs_on_number", [4, 3])
def test_a_blocked_number_keeps_its_unidentified_callers_apart(tmp_path: Path, refs_on_number: int) -> None:
    switchboard = "+14045550199"
    identified = [
        call(f"CAk{n}", switchboard, f"0{n}:00", customer_ref=f"C00000{n}") for n in range(1, refs_on_number + 1)
    ]
    anonymous = [call("CAx1", switchboard, "12:00"), call("CAx2", switchboard, "15:00")]
    h = _landing(tmp_path, calls=identified + anonymous)
    customers = h.calls.set_index("call_id")["customer_key"]
    if refs_on_number > 3:  # shared by more than max_customers_per_identifier customers: links no one
        assert customers["CAx1"] != customers["CAx2"]
        assert customers["CAk1"] != customers["CAk2"]
    else:  # three customers may share a number: it links them all
        assert customers["CAx1"] == customers["CAx2"] == customers["CAk1"] == customers["CAk2"]


def text(message_id: str, thread: str, phone: str, sent_at: str, inbound: bool, body: str = "hello") -> dict:
    """One text of ``thread`` between the customer's ``phone`` and the company, sent at ``sent_at`` (UTC)."""
    return {
        "message_id": message_id, "thread_id": thread, "direction": "inbound" if inbound else "outbound",
        "from_number": phone if inbound else COMPANY, "to_number": COMPANY if inbound else phone,
        "sent_at": sent_at, "agent_id": "" if inbound else "A003", "body": body,
        "status": "received" if inbound else "delivered",
    }  # fmt: skip


def test_a_thread_day_opened_by_the_agents_answer_is_not_the_customers_contact(tmp_path: Path) -> None:
    """docs/kpis.md "Who started the contact": a text thread-day is customer-initiated when its first message came
    from the customer. Both customers text one evening and call the next afternoon. C1's next morning opens with
    the agent's answer (C1 then replies): that day is the company's, so C1 started 2 interactions, not 3, and is no
    frequent contacter. C2 writes first the next morning: 3 customer-initiated interactions, a frequent contacter
    (seed 101's customer C000118 had C1's shape)."""
    next_day = "2026-10-06"
    c1, c2 = "+12025550101", "+12025550102"
    h = _landing(
        tmp_path,
        sms=[
            text("SM1", "TH1", c1, f"{DAY}T22:00:00Z", inbound=True, body="what do I need to open an account"),
            text("SM2", "TH1", c1, f"{next_day}T08:00:00Z", inbound=False, body="Can you confirm your account?"),
            text("SM3", "TH1", c1, f"{next_day}T08:05:00Z", inbound=True, body="one moment"),
            text("SM4", "TH2", c2, f"{DAY}T22:00:00Z", inbound=True, body="what do I need to open an account"),
            text("SM5", "TH2", c2, f"{next_day}T08:00:00Z", inbound=True, body="anyone there?"),
            text("SM6", "TH2", c2, f"{next_day}T08:05:00Z", inbound=False, body="Can you confirm your account?"),
        ],
        calls=[
            call("CA1", c1, "15:00") | {"started_at": f"{next_day}T15:00:00Z", "queued_at": f"{next_day}T15:00:10Z",
                                        "answered_at": f"{next_day}T15:00:30Z", "ended_at": f"{next_day}T15:05:00Z"},
            call("CA2", c2, "15:00") | {"started_at": f"{next_day}T15:00:00Z", "queued_at": f"{next_day}T15:00:10Z",
                                        "answered_at": f"{next_day}T15:00:30Z", "ended_at": f"{next_day}T15:05:00Z"},
        ],
    )  # fmt: skip
    initiated = h.interactions.set_index("interaction_id")["is_customer_initiated"]
    assert not initiated[f"sms:TH1:{next_day}"]
    assert initiated[f"sms:TH1:{DAY}"] and initiated[f"sms:TH2:{DAY}"] and initiated[f"sms:TH2:{next_day}"]
    assert _value(kpis.customer_segments(h), "segment=frequent_contacter")[0] == 1


def ticket(ticket_id: str, n: int, rating: dict | None, comments: list[tuple[str, str, str]], **fields: str) -> dict:
    """A solved ticket of customer ``n``; ``comments`` are (HH:MM on DAY, role end-user or agent, agent id)."""
    return {
        "id": ticket_id, "subject": "bill", "created_at": f"{DAY}T{comments[0][0]}:00Z",
        "updated_at": f"{DAY}T23:00:00Z", "solved_at": f"{DAY}T22:00:00Z", "closed_at": None,
        "via": {"channel": "email"}, "status": "solved", "priority": "normal",
        "requester": {"email": f"c{n}@example.com", "phone": None, "customer_ref": None},
        "assignee_id": "A001", "group": "billing", "tags": ["billing"], "satisfaction_rating": rating,
        "status_changes": [{"created_at": f"{DAY}T22:00:00Z", "author_role": "agent", "previous_value": "open",
                            "value": "solved"}],
        "comments": [
            {"id": f"{ticket_id}-{k}", "created_at": f"{DAY}T{at}:00Z", "author_role": role,
             "author_id": agent or None, "public": True, "body": "text"}
            for k, (at, role, agent) in enumerate(comments)
        ],
    } | fields  # fmt: skip


def test_ticket_ratings_are_csat_answers_of_the_last_request_before_them(tmp_path: Path) -> None:
    """docs/kpis.md CSAT: good scores 5, bad 1; offered and unoffered are no answer; a rating is dated when given,
    else at the ticket's solve, on channel email, and rates the ticket's last request started before it. T1's
    good rating (11:30) rates its second request (11:00, answered by A008), not the first (A007); T2's bad rating
    has no date: the solve (22:00) dates it, for A009; T3 (offered) and T4 (unoffered) count nowhere."""
    two_requests = [("09:00", "end-user", ""), ("10:00", "agent", "A007"), ("11:00", "end-user", ""),
                    ("12:00", "agent", "A008")]  # fmt: skip
    one_request = [("09:00", "end-user", ""), ("10:00", "agent", "A009")]
    folder = tmp_path / "tickets"
    folder.mkdir()
    (folder / f"tickets_{DAY}.jsonl").write_text(
        "".join(
            json.dumps(t) + "\n"
            for t in [
                ticket("T1", 1, {"score": "good", "created_at": f"{DAY}T11:30:00Z"}, two_requests),
                ticket("T2", 2, {"score": "bad", "created_at": None}, one_request),
                ticket("T3", 3, {"score": "offered", "created_at": None}, one_request),
                ticket("T4", 4, {"score": "unoffered", "created_at": None}, one_request),
            ]
        )
    )
    h = _landing(tmp_path, calls=[call("CA1", "+12025550105", "08:00")])  # the reference reads a call log
    assert _value(kpis.csat(h), "all") == (1, 2)
    assert _value(kpis.csat(h), "channel=email") == (1, 2)
    assert _value(kpis.csat_mean(h), "all") == (6, 2)
    assert _value(kpis.agent_csat(h), "agent_id=A008") == (1, 1)
    assert _value(kpis.agent_csat(h), "agent_id=A009") == (0, 1)
    assert "agent_id=A007" not in set(kpis.agent_csat(h)["slice"])
    kpis.CSAT_INCLUDES_TICKET_RATINGS = False
    try:
        assert "channel=email" not in set(kpis.csat(h)["slice"])
    finally:
        kpis.CSAT_INCLUDES_TICKET_RATINGS = True


# --- the help desk's own KPIs (docs/kpis.md "Tickets"): tickets_kpis.timed on hand-made tickets --------------------


def desk_ticket(ticket_id: str, created: str, priority: str, events: list[tuple], **fields: object) -> dict:
    """A ticket created at ``created`` (UTC, "YYYY-MM-DD HH:MM") by its requester's message; ``events`` are
    (time, kind) with kind reply (an agent's public reply), note (an agent's internal note), auto (the system's
    public auto-reply), requester (a requester message) or a status ("solved", "open", ... set by an agent; a
    status after a requester's message is set by the requester; "solved/system" is the automation's solve)."""

    def iso(at: str) -> str:
        return at.replace(" ", "T") + ":00Z"

    comments = [{"id": f"{ticket_id}-0", "created_at": iso(created), "author_role": "end-user", "author_id": None,
                 "public": True, "body": "help"}]  # fmt: skip
    changes = [{"created_at": iso(created), "author_role": "end-user", "previous_value": None, "value": "new"}]
    status, role = "new", "agent"
    for k, (at, kind) in enumerate(events, start=1):
        if kind in ("reply", "note", "auto", "requester"):
            author = {"reply": "agent", "note": "agent", "auto": "system", "requester": "end-user"}[kind]
            comments.append({"id": f"{ticket_id}-{k}", "created_at": iso(at), "author_role": author,
                             "author_id": "A001" if author == "agent" else None, "public": kind != "note",
                             "body": "text"})  # fmt: skip
            role = "end-user" if kind == "requester" else "agent"
        else:
            value, _, by = kind.partition("/")
            changes.append({"created_at": iso(at), "author_role": by or role, "previous_value": status, "value": value})
            status, role = value, "agent"
    solves = [c["created_at"] for c in changes if c["value"] == "solved"]
    ticket = {
        "id": ticket_id, "subject": "help", "created_at": iso(created), "updated_at": None,
        "solved_at": solves[-1] if status in ("solved", "closed") else None, "closed_at": None,
        "via": {"channel": "email"}, "status": status, "priority": priority,
        "requester": {"email": "c1@example.com", "phone": None, "customer_ref": None}, "assignee_id": "A001",
        "group": "billing", "tags": [], "satisfaction_rating": None, "status_changes": changes, "comments": comments,
    }  # fmt: skip
    return ticket | fields


def _timed(tickets: list[dict]) -> pd.DataFrame:
    from tests.reference.ticket_kpis import timed

    return timed(tickets, lambda codes: None).set_index("ticket_id")


def test_first_reply_counts_business_minutes_across_a_weekend_dst_change_and_holidays() -> None:
    """`default` is New York (Mon-Fri 08-21, Sat 09-18, Sun 10-16): T1, created Friday 30 October 2026 at 19:00
    EDT (23:00 UTC), answered Sunday 1 November at 15:30 UTC, the day daylight saving ends (Sunday opens 10:00 EST,
    15:00 UTC): 120 (Friday) + 540 (Saturday) + 30 = 690 business minutes, 2430 calendar minutes; the system's
    auto-reply and an agent's internal note before it are no reply. Normal priority's target is 8 business hours:
    missed. T2's group tech_support follows west_coast_support (Los Angeles, Mon-Fri 07-19, closed Thanksgiving and
    the day after): created Wednesday 25 November at 12:00 PST, answered Monday 30 November at 08:00 PST: 420 + 60
    = 480 business minutes, 6960 calendar; its high priority's 4 hours are missed too."""
    t1 = desk_ticket(
        "T1",
        "2026-10-30 23:00",
        "normal",
        [("2026-10-30 23:01", "auto"), ("2026-10-31 15:00", "note"), ("2026-11-01 15:30", "reply")],
    )
    t2 = desk_ticket("T2", "2026-11-25 20:00", "high", [("2026-11-30 16:00", "reply")], group="tech_support")
    # T3: written Thursday 29 October 21:30 EDT (after closing), answered 22:00 EDT: no opening minute, so 0 business
    # minutes (the part of the duration inside opening hours), not its 30 calendar minutes, and met.
    t3 = desk_ticket("T3", "2026-10-30 01:30", "normal", [("2026-10-30 02:00", "reply")])
    frame = _timed([t1, t2, t3])
    assert frame.at["T1", "first_reply_business_minutes"] == pytest.approx(690)
    assert frame.at["T1", "first_reply_calendar_minutes"] == pytest.approx(2430)
    assert frame.at["T2", "first_reply_business_minutes"] == pytest.approx(480)
    assert frame.at["T2", "first_reply_calendar_minutes"] == pytest.approx(6960)
    assert frame.at["T3", "first_reply_business_minutes"] == 0
    assert frame.at["T3", "first_reply_calendar_minutes"] == pytest.approx(30)
    assert frame["sla_judged"].tolist() == [1, 1, 1] and frame["sla_met"].tolist() == [0, 0, 1]


def test_sla_judges_unanswered_tickets_once_past_their_target() -> None:
    """The data's end is the export's latest comment or status change (T4's reply, Monday 2 November 19:00 UTC).
    T1 (urgent, 1 business hour) has only an auto-reply since 14:00 UTC: 300 business minutes unanswered, a miss.
    T2 (low, 24 business hours) since 17:00 UTC is unanswered but not late: not judged. T3 (normal, 8 hours) was
    solved unanswered after 60 business minutes: judged by its unanswered time until the solve, so not judged. T4
    (normal) answered after 5 hours: met."""
    frame = _timed([
        desk_ticket("T1", "2026-11-02 14:00", "urgent", [("2026-11-02 14:01", "auto")]),
        desk_ticket("T2", "2026-11-02 17:00", "low", []),
        desk_ticket("T3", "2026-11-02 14:00", "normal", [("2026-11-02 15:00", "solved")]),
        desk_ticket("T4", "2026-11-02 14:00", "normal", [("2026-11-02 19:00", "reply")]),
    ])  # fmt: skip
    assert frame["unanswered_business_minutes"].round(6).tolist()[:3] == [300, 120, 60]
    assert frame["sla_judged"].tolist() == [1, 0, 0, 1]
    assert frame["sla_met"].tolist() == [0, 0, 0, 1]
    assert frame["first_replied"].tolist() == [0, 0, 0, 1]


def test_reopens_one_touch_replies_and_requester_wait() -> None:
    """T1: answered and solved Tuesday 3 November 15:00 UTC, reopened by the requester Wednesday 14:00, answered and
    solved at 15:00: 2 replies, reopened, not one-touch; it waited new 14:00-15:00 Tuesday and open 14:00-15:00
    Wednesday (120 minutes, in opening hours), not while solved; resolution Tuesday 14:00 to Wednesday 15:00 (its
    latest solve) is 1500 calendar minutes and 720 + 120 = 840 business minutes (Tuesday closes 21:00 EST, 02:00
    UTC). T2: one reply, solved by the agent: one-touch. T3: one reply, left pending, solved by the automation: not
    one-touch (and the pending day is no wait)."""
    frame = _timed([
        desk_ticket("T1", "2026-11-03 14:00", "normal", [
            ("2026-11-03 15:00", "reply"), ("2026-11-03 15:00", "solved"), ("2026-11-04 14:00", "requester"),
            ("2026-11-04 14:00", "open"), ("2026-11-04 15:00", "reply"), ("2026-11-04 15:00", "solved")]),
        desk_ticket("T2", "2026-11-03 14:00", "normal",
                    [("2026-11-03 14:30", "reply"), ("2026-11-03 14:30", "solved")]),
        desk_ticket("T3", "2026-11-03 14:00", "normal", [
            ("2026-11-03 14:30", "reply"), ("2026-11-03 14:30", "pending"), ("2026-11-04 14:30", "solved/system")]),
    ])  # fmt: skip
    assert frame["solved_agent_replies"].tolist() == [2, 1, 1]
    assert frame["reopened"].tolist() == [1, 0, 0]
    assert frame["one_touch"].tolist() == [0, 1, 0]
    assert frame["requester_wait_calendar_minutes"].tolist() == pytest.approx([120, 30, 30])
    assert frame["requester_wait_business_minutes"].tolist() == pytest.approx([120, 30, 30])
    assert frame.at["T1", "resolution_calendar_minutes"] == pytest.approx(1500)
    assert frame.at["T1", "resolution_business_minutes"] == pytest.approx(840)
    assert frame.at["T1", "solved_at"] == pd.Timestamp("2026-11-04 15:00")


def test_a_one_row_per_ticket_report_is_no_data_in_the_reply_and_status_kpis(tmp_path: Path) -> None:
    """mapping_profiles/ticket_csv.yml: T-1 (solved two days later, never answered as far as the report tells) counts
    in tickets created, solved and resolution time (Tuesday 14:00 to Thursday 14:00 UTC: 2880 calendar minutes), but
    not in first reply, SLA (a ticket with history unanswered that long would be a miss), replies, one-touch,
    reopens or requester wait; T-2 (open) is in the backlog as `new`, its only known status (its history is
    what the row tells). A row with an
    unreadable creation time and one solved before its creation are rejected."""
    from collections import Counter

    from tests.reference.ticket_kpis import backlog_rows
    from tests.reference.tickets import read_ticket_csv

    folder = tmp_path / "ticket_csv"
    folder.mkdir()
    header = ("Ticket ID,Subject,Created At,Updated At,Solved At,Status,Priority,Channel,Requester Email,"
              "Requester Phone,Customer Ref,Assignee ID,Group,Category,Satisfaction")  # fmt: skip
    rows = [
        "T-1,Charged twice,2026-11-03 14:00:00,2026-11-05 14:00:00,2026-11-05 14:00:00,Solved,Normal,Email,"
        "ann@example.com,,,A1,billing,cat_billing,Good",
        "T-2,No tone,2026-11-04 14:00:00,2026-11-04 14:00:00,,Open,High,Phone,,+1 415 555 0101,,A2,billing,,",
        "T-3,Refund,yesterday,2026-11-04 09:00:00,,New,Normal,Email,cy@example.com,,,,billing,,",
        "T-4,Cancel,2026-11-04 10:00:00,2026-11-04 11:00:00,2026-11-03 11:00:00,Solved,Urgent,Web,d@example.com,,,"
        "A2,,,",
    ]
    (folder / "tickets_2026-11-05.csv").write_text("\n".join([header, *rows]) + "\n")
    rejected: Counter = Counter()
    tickets = read_ticket_csv(tmp_path, rejected)
    assert rejected["ticket_csv"] == 2
    frame = _timed(tickets)
    assert frame["created"].tolist() == [1, 1] and frame["solved"].tolist() == [1, 0]
    assert frame.at["T-1", "resolution_calendar_minutes"] == pytest.approx(2880)
    assert frame.at["T-1", "channel"] == "email" and frame.at["T-2", "channel"] == "voice"
    for column in ("first_replied", "sla_judged", "solved_with_history", "one_touch", "reopened"):
        assert frame[column].sum() == 0, column
    assert frame["requester_wait_calendar_minutes"].isna().all()
    backlog = backlog_rows(tickets)
    # T-1 is new at the end of 3 and 4 November (solved on the 5th), T-2 on the 4th and 5th (the export's end)
    assert backlog[["day", "status"]].values.tolist() == [["2026-11-03", "new"], ["2026-11-04", "new"],
                                                          ["2026-11-04", "new"], ["2026-11-05", "new"]]  # fmt: skip


def test_the_backlog_is_each_days_last_status() -> None:
    """T1 is new on Monday 2 November, pending at Tuesday's end, solved Wednesday; T2 (created Tuesday 23:30 UTC,
    reopened Wednesday after a solve) is open at the end of Tuesday and Wednesday; the days run to the export's end
    (Wednesday)."""
    from tests.reference.ticket_kpis import backlog_rows

    tickets = [
        desk_ticket("T1", "2026-11-02 14:00", "normal",
                    [("2026-11-03 10:00", "reply"), ("2026-11-03 10:00", "pending"), ("2026-11-04 10:00", "solved")]),
        desk_ticket("T2", "2026-11-03 23:30", "normal",
                    [("2026-11-03 23:40", "open"), ("2026-11-04 08:00", "solved"), ("2026-11-04 09:00", "requester"),
                     ("2026-11-04 09:00", "open")]),
    ]  # fmt: skip
    counts = backlog_rows(tickets).groupby(["day", "status"]).size().to_dict()
    assert counts == {("2026-11-02", "new"): 1, ("2026-11-03", "pending"): 1, ("2026-11-03", "open"): 1,
                      ("2026-11-04", "open"): 1}  # fmt: skip
