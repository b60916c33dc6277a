"""The reference itself on tiny hand-made landing folders: the definitions where it disagrees with the marts.

A reference that is wrong proves nothing, so each definition it is used to challenge is checked here on a case
small enough to count by hand.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

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
