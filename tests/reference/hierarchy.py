"""Levels 2-4 of the customer hierarchy (DOMAIN.md section 4) rebuilt in pandas from the raw exports.

transactions: the IVR part of a call, each queue-and-agent leg (every outbound leg), the bot and the agent part of
a chat, a text thread's messages of one day, an FAQ visit, a form submission.
interactions: one customer's transactions of one contact (a call with its transfers, a chat) merged with the
contacts that start less than ``session_gap_minutes`` after everything before them has ended.
engagements: one customer's interactions on one intent until one resolves it or ``engagement_window_days`` pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from tests.reference.exports import Exports
from tests.reference.identity import Identifier, Identity, identifiers, resolve, respondent_identifier
from tests.reference.intents import UNKNOWN, UNMAPPED, KnowledgeBase
from tests.reference.tickets import identity_records as ticket_identity_records
from tests.reference.tickets import transactions as ticket_transactions

ASSISTED_TYPES = {"call_leg", "chat_agent", "sms_thread_day", "form", "ticket_request"}
CHANNEL = {
    "ivr": "ivr",
    "call_leg": "voice",
    "chat_bot": "chat",
    "chat_agent": "chat",
    "sms_thread_day": "sms",
    "faq_visit": "faq",
    "form": "form",
    "ticket_request": "email",
}
# Among transactions starting at the same instant, the order in which the customer went through them.
TYPE_ORDER = {
    "faq_visit": 0,
    "form": 1,
    "ivr": 2,
    "call_leg": 3,
    "chat_bot": 4,
    "chat_agent": 5,
    "sms_thread_day": 6,
    "ticket_request": 7,
}


@dataclass(frozen=True)
class Params:
    """dbt vars of dbt_project.yml, defaults of DOMAIN.md."""

    session_gap_minutes: int = 30
    engagement_window_days: int = 7
    max_customers_per_identifier: int = 3
    service_level_seconds: int = 20
    dead_air_seconds: int = 30
    deflection_window_hours: int = 24
    duplicate_window_hours: int = 48
    max_attempts_per_7_days: int = 7


@dataclass
class Hierarchy:
    exports: Exports
    kb: KnowledgeBase
    identity: Identity
    calls: pd.DataFrame  # legs with root call id and customer
    transactions: pd.DataFrame
    interactions: pd.DataFrame
    engagements: pd.DataFrame
    surveys: pd.DataFrame  # answers with customer, rated transaction and is_valid
    faq_views: pd.DataFrame  # views with their visit_id
    data_end: pd.Timestamp
    params: Params


def _none(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT


def _root_of(calls: pd.DataFrame) -> dict[str, str]:
    parent = dict(zip(calls["call_id"], calls["parent_call_id"], strict=True))
    roots: dict[str, str] = {}
    for call_id in parent:
        node, seen = call_id, set()
        while not _none(parent.get(node)) and parent.get(node) in parent and node not in seen:
            seen.add(node)
            node = parent[node]
        roots[call_id] = node
    return roots


def _identity_records(exports: Exports, calls: pd.DataFrame) -> tuple[list[tuple[str, list[Identifier]]], list[str]]:
    """Every record with its identifiers. A call (all its legs) and a text thread are one record each: the
    customer side of a number is `from` on inbound and `to` on outbound (company numbers are not identifiers)."""
    records: list[tuple[str, list[Identifier]]] = []
    crm = exports["customers"]
    for ref, email, phone in crm[["customer_ref", "email", "phone"]].itertuples(False):
        records.append((f"crm:{ref}", identifiers(customer_ref=ref, phone=phone, email=email)))
    call_ids: dict[str, list[Identifier]] = {}
    for root, direction, from_n, to_n, ref in calls[
        ["root_call_id", "direction", "from_number", "to_number", "customer_ref"]
    ].itertuples(False):
        phone = from_n if direction == "inbound" else to_n
        ids = call_ids.setdefault(f"call:{root}", [])
        ids += [i for i in identifiers(customer_ref=ref, phone=phone) if i not in ids]
    records += list(call_ids.items())
    sms_ids: dict[str, list[Identifier]] = {}
    sms = exports["sms"]
    for thread, direction, from_n, to_n in sms[["thread_id", "direction", "from_number", "to_number"]].itertuples(
        False
    ):
        ids = sms_ids.setdefault(f"sms:{thread}", [])
        ids += [i for i in identifiers(phone=from_n if direction == "inbound" else to_n) if i not in ids]
    records += list(sms_ids.items())
    chats = exports["chats"]
    for cid, visitor, email, phone, ref in chats[
        ["conversation_id", "visitor_id", "email", "phone", "customer_ref"]
    ].itertuples(False):
        records.append((f"chat:{cid}", identifiers(customer_ref=ref, phone=phone, email=email, visitor_id=visitor)))
    views = exports["faq_views"]
    for vid, visitor, ref in views[["view_id", "visitor_id", "customer_ref"]].itertuples(False):
        records.append((f"faq:{vid}", identifiers(customer_ref=ref, visitor_id=visitor)))
    forms = exports["forms"]
    for rid, visitor, email, phone in forms[["response_id", "visitor_id", "email", "phone"]].itertuples(False):
        records.append((f"form:{rid}", identifiers(phone=phone, email=email, visitor_id=visitor)))
    for rid, respondent in exports["surveys"][["response_id", "respondent"]].itertuples(False):
        records.append((f"survey:{rid}", respondent_identifier(respondent)))
    records += ticket_identity_records(exports.tickets)
    return records, list(crm["customer_ref"])


def _ivr_transactions(exports: Exports, kb: KnowledgeBase) -> pd.DataFrame:
    events = exports["ivr_events"].sort_values(["call_id", "seq"])
    rows = []
    for call_id, group in events.groupby("call_id", sort=False):
        kinds = set(group["event_type"])
        if "self_service_complete" in kinds:
            outcome = "contained"
        elif "to_queue" in kinds:
            outcome = "to_queue"
        else:
            outcome = "dropped"
        rows.append(
            {
                "transaction_id": f"ivr:{call_id}",
                "transaction_type": "ivr",
                "contact_id": f"call:{call_id}",
                "record_id": f"call:{call_id}",
                "started_at": group["event_at"].min(),
                "ended_at": group["event_at"].max(),
                "intent": kb.intent_of(("ivr_node", node) for node in group["node"]),
                "is_resolved": outcome == "contained",
                "outcome": outcome,
                "direction": "inbound",
            }
        )
    return pd.DataFrame(rows)


def _call_leg_transactions(calls: pd.DataFrame, ivr_calls: set[str], kb: KnowledgeBase) -> pd.DataFrame:
    # An inbound leg that never queued nor reached an agent is covered by its call's IVR part (DECISIONS "Which
    # records are transactions"); when the call has no IVR events at all the leg stays a transaction of its own,
    # so that no contact is lost.
    reached = calls["queued_at"].notna() | calls["answered_at"].notna() | calls["agent_id"].notna()
    keep = (calls["direction"] == "outbound") | reached | ~calls["root_call_id"].isin(ivr_calls)
    legs = calls[keep]
    start = legs["queued_at"].fillna(legs["started_at"])
    return pd.DataFrame(
        {
            "transaction_id": "call:" + legs["call_id"],
            "transaction_type": "call_leg",
            "contact_id": "call:" + legs["root_call_id"],
            "record_id": "call:" + legs["root_call_id"],
            "started_at": start,
            "ended_at": legs["ended_at"].fillna(start).combine(start, max),
            "intent": [kb.intent_of([("call_disposition", d)]) for d in legs["disposition"]],
            "is_resolved": legs["resolved"].eq(True) & legs["answered_at"].notna(),
            # DECISIONS "No resolution data is no data": an answered leg without `resolved` is unknown, and so is
            # every leg when the call export never reports resolution at all.
            "resolution_known": bool(calls["resolved"].notna().any())
            & (legs["resolved"].notna() | legs["answered_at"].isna()),
            "outcome": legs["status"],
            "direction": legs["direction"],
            "queue": legs["queue"],
            "agent_id": legs["agent_id"].where(legs["answered_at"].notna()),
            "source_id": legs["call_id"],
        }
    )


def _chat_transactions(exports: Exports, kb: KnowledgeBase) -> pd.DataFrame:
    chats = exports["chats"]
    messages = exports["chat_messages"]
    last_message = messages.groupby("conversation_id")["sent_at"].max()
    tags = (
        exports["chat_tags"].sort_values(["conversation_id", "tag_index"]).groupby("conversation_id")["tag"].apply(list)
    )
    chats_report = bool(chats["resolved"].notna().any())
    rows = []
    for chat in chats.itertuples(index=False):
        last = last_message.get(chat.conversation_id, pd.NaT)
        end = chat.closed_at if not _none(chat.closed_at) else (last if not _none(last) else chat.created_at)
        has_agent = not _none(chat.agent_id)
        handed = chat.handed_over_at if not _none(chat.handed_over_at) else None
        has_bot = not _none(chat.bot_intent) or handed is not None or not has_agent
        base = {"contact_id": f"chat:{chat.conversation_id}", "record_id": f"chat:{chat.conversation_id}",
                "direction": "inbound", "source_id": chat.conversation_id, "bot_intent": chat.bot_intent}  # fmt: skip
        if has_bot:
            bot_end = handed if (handed is not None and has_agent) else end
            rows.append(
                base
                | {
                    "transaction_id": f"chat_bot:{chat.conversation_id}",
                    "transaction_type": "chat_bot",
                    "started_at": chat.created_at,
                    "ended_at": max(bot_end, chat.created_at),
                    "intent": kb.intent_of([("chat_bot_intent", chat.bot_intent)]),
                    # a bot-only chat marked resolved was resolved by the bot
                    "is_resolved": (not has_agent) and chat.resolved is True,
                    "resolution_known": chats_report and (has_agent or not _none(chat.resolved)),
                    "outcome": "handed_over" if has_agent else "bot_only",
                }
            )
        if has_agent:
            start = handed if handed is not None else chat.created_at
            codes = [("chat_tag", t) for t in tags.get(chat.conversation_id, [])] + [
                ("chat_bot_intent", chat.bot_intent)
            ]
            rows.append(
                base
                | {
                    "transaction_id": f"chat_agent:{chat.conversation_id}",
                    "transaction_type": "chat_agent",
                    "started_at": start,
                    "ended_at": max(end, start),
                    "intent": kb.intent_of(codes),
                    "is_resolved": chat.resolved is True,
                    "resolution_known": not _none(chat.resolved),
                    "outcome": "agent",
                    "agent_id": chat.agent_id,
                }
            )
    return pd.DataFrame(rows)


def _sms_transactions(exports: Exports) -> pd.DataFrame:
    sms = exports["sms"].copy()
    sms["day"] = sms["sent_at"].dt.floor("D")  # reporting time zone UTC (dbt var default)
    sms = sms.sort_values(["thread_id", "sent_at", "message_id"])
    rows = []
    for (thread, day), group in sms.groupby(["thread_id", "day"], sort=False):
        inbound = (group["direction"] == "inbound").any()
        # docs/kpis.md "Who started the contact": the day's first message decides who started it (DECISIONS "Who
        # started the contact is part of every KPI"). An agent's answer that opens the next day continues the
        # customer's question of the day before, already counted; a customer replying to a reminder answers it.
        opened_by_customer = group["direction"].iloc[0] == "inbound"
        agents = group["agent_id"].dropna()
        rows.append(
            {
                "transaction_id": f"sms:{thread}:{day.date()}",
                "transaction_type": "sms_thread_day",
                "contact_id": f"sms:{thread}:{day.date()}",
                "record_id": f"sms:{thread}",
                "started_at": group["sent_at"].min(),
                "ended_at": group["sent_at"].max(),
                "intent": None,
                "is_resolved": False,
                "outcome": "conversation" if inbound else "outbound_only",
                "direction": "inbound" if opened_by_customer else "outbound",
                "agent_id": agents.iloc[0] if len(agents) else None,
                "source_id": thread,
            }
        )
    return pd.DataFrame(rows)


def _faq_transactions(exports: Exports, kb: KnowledgeBase, gap: timedelta) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FAQ visits: views of one visitor less than ``gap`` apart, measured from the previous view's end (its time
    plus seconds on page), like interactions. Also returns the views with their visit id."""
    views = exports["faq_views"].copy()
    views["visitor"] = views["visitor_id"].fillna("view:" + views["view_id"])
    views = views.sort_values(["visitor", "viewed_at", "view_id"]).reset_index(drop=True)
    views["view_end"] = views["viewed_at"] + pd.to_timedelta(views["seconds_on_page"].fillna(0), unit="s")
    visit_ids, current, running_end, last_visitor = [], None, None, None
    for visitor, viewed_at, view_end, view_id in views[["visitor", "viewed_at", "view_end", "view_id"]].itertuples(
        False
    ):
        if visitor != last_visitor or viewed_at >= running_end + gap:
            current, running_end = view_id, view_end
        running_end = max(running_end, view_end)
        last_visitor = visitor
        visit_ids.append(current)
    views["visit_id"] = visit_ids
    rows = []
    for visit_id, group in views.groupby("visit_id", sort=False):
        rows.append(
            {
                "transaction_id": f"faq:{visit_id}",
                "transaction_type": "faq_visit",
                "contact_id": f"faq:{visit_id}",
                "record_id": f"faq:{group['view_id'].iloc[0]}",
                "started_at": group["viewed_at"].min(),
                "ended_at": group["view_end"].max(),
                "intent": kb.intent_of(("faq_article", a) for a in group["article_id"]),
                "is_resolved": bool((group["vote"] == "up").any()),
                "outcome": "voted_up" if (group["vote"] == "up").any() else "no_vote",
                "direction": "inbound",
                "source_id": visit_id,
            }
        )
    return pd.DataFrame(rows), views


def _form_transactions(exports: Exports, kb: KnowledgeBase) -> pd.DataFrame:
    forms = exports["forms"]
    return pd.DataFrame(
        {
            "transaction_id": "form:" + forms["response_id"],
            "transaction_type": "form",
            "contact_id": "form:" + forms["response_id"],
            "record_id": "form:" + forms["response_id"],
            "started_at": forms["submitted_at"],
            "ended_at": forms["submitted_at"],
            "intent": [kb.intent_of([("form_topic", t)]) for t in forms["topic"]],
            "is_resolved": False,
            "outcome": "submitted",
            "direction": "inbound",
            "source_id": forms["response_id"],
        }
    )


def _interactions(transactions: pd.DataFrame, kb: KnowledgeBase, gap: timedelta) -> pd.DataFrame:
    """Sessionize contacts per customer; a contact joins when it starts less than ``gap`` after the end of
    everything before it in the interaction (29 minutes merges, 30 splits)."""
    contacts = (
        transactions.groupby("contact_id")
        .agg(customer_key=("customer_key", "first"), started_at=("started_at", "min"), ended_at=("ended_at", "max"))
        .reset_index()
        .sort_values(["customer_key", "started_at", "contact_id"])
    )
    interaction_of: dict[str, str] = {}
    current, running_end, last_customer = None, None, None
    for contact_id, customer, start, end in contacts[
        ["contact_id", "customer_key", "started_at", "ended_at"]
    ].itertuples(False):
        if customer != last_customer or start >= running_end + gap:
            current, running_end = contact_id, end
        running_end = max(running_end, end)
        last_customer = customer
        interaction_of[contact_id] = current
    transactions["interaction_id"] = transactions["contact_id"].map(interaction_of)
    ordered = transactions.assign(_order=transactions["transaction_type"].map(TYPE_ORDER)).sort_values(
        ["interaction_id", "started_at", "_order", "transaction_id"]
    )
    rows = []
    for interaction_id, group in ordered.groupby("interaction_id", sort=False):
        intents = [i for i in group["intent"] if kb.is_known(i)]
        if intents:
            intent = intents[0]
        elif (group["intent"] == UNMAPPED).any():
            intent = UNMAPPED
        else:
            intent = UNKNOWN
        legs = group[group["transaction_type"] == "call_leg"]
        agent_rows = group[group["agent_id"].notna()]
        rows.append(
            {
                "interaction_id": interaction_id,
                "customer_key": group["customer_key"].iloc[0],
                "started_at": group["started_at"].min(),
                "ended_at": group["ended_at"].max(),
                "intent": intent,
                "first_channel": group["channel"].iloc[0],
                "channels": frozenset(group["channel"]),
                "is_resolved": bool(group["is_resolved"].any()),
                "resolution_known": bool(group["is_resolved"].any() or group["resolution_known"].all()),
                "is_assisted": bool(group["is_assisted"].any()),
                "is_customer_initiated": bool((group["direction"] == "inbound").any()),
                "is_outbound_only": len(legs) > 0 and bool((legs["direction"] == "outbound").all()),
                "last_agent_id": agent_rows["agent_id"].iloc[-1] if len(agent_rows) else None,
            }
        )
    return pd.DataFrame(rows)


def _engagements(interactions: pd.DataFrame, window: timedelta, data_end: pd.Timestamp, kb: KnowledgeBase):
    """Group a customer's interactions per intent; an engagement closes on a resolving interaction or when the
    window passes after its last contact's end without another contact; the next contact opens a new one."""
    interactions = interactions.sort_values(["customer_key", "intent", "started_at", "interaction_id"]).copy()
    engagement_ids, rows = [], []
    current: dict | None = None
    for row in interactions.itertuples(index=False):
        same = current is not None and current["customer_key"] == row.customer_key and current["intent"] == row.intent
        if not (same and not current["is_resolved"] and row.started_at < current["last_contact_at"] + window):
            current = {
                "engagement_id": row.interaction_id,
                "customer_key": row.customer_key,
                "intent": row.intent,
                "started_at": row.started_at,
                "first_channel": row.first_channel,
                "first_interaction_resolved": row.is_resolved,
                "first_interaction_resolution_known": row.resolution_known,
                "first_interaction_end": row.ended_at,
                "first_agent_id": row.last_agent_id,
                "last_contact_at": row.ended_at,
                "interactions_count": 0,
                "is_resolved": False,
                "customer_initiated": False,
                "assisted": False,
                "all_resolution_known": True,
                "channels": frozenset(),
            }
            rows.append(current)
        current["interactions_count"] += 1
        current["last_contact_at"] = max(current["last_contact_at"], row.ended_at)
        current["is_resolved"] = current["is_resolved"] or row.is_resolved
        current["customer_initiated"] = current["customer_initiated"] or row.is_customer_initiated
        current["assisted"] = current["assisted"] or row.is_assisted
        current["all_resolution_known"] = current["all_resolution_known"] and row.resolution_known
        current["channels"] = current["channels"] | row.channels
        engagement_ids.append(current["engagement_id"])
    interactions["engagement_id"] = engagement_ids
    engagements = pd.DataFrame(rows)
    engagements["window_complete"] = engagements["last_contact_at"] + window < data_end
    engagements["resolution_known"] = engagements["is_resolved"] | engagements["all_resolution_known"]
    return interactions, engagements


def _rated_transactions(transactions: pd.DataFrame, surveys: pd.DataFrame) -> pd.Series:
    """The transaction an answer rates: the last transaction (by start) of the call (any leg id names the call),
    chat or text thread (its latest day up to the answer) named by contact_id."""
    by_start = transactions.sort_values(["started_at", "transaction_id"])
    last_of: dict[str, str] = {}
    for contact_id, tid in by_start[["contact_id", "transaction_id"]].itertuples(False):
        last_of[contact_id] = tid
    leg_contact = dict(
        zip(
            transactions.loc[transactions["transaction_type"] == "call_leg", "source_id"],
            transactions.loc[transactions["transaction_type"] == "call_leg", "contact_id"],
            strict=True,
        )
    )
    sms_days = by_start[by_start["transaction_type"] == "sms_thread_day"]
    rated = []
    for contact, responded_at in surveys[["contact_id", "responded_at"]].itertuples(False):
        tid = None
        if isinstance(contact, str):
            if f"call:{contact}" in last_of:
                tid = last_of[f"call:{contact}"]
            elif contact in leg_contact:
                tid = last_of[leg_contact[contact]]
            elif f"chat:{contact}" in last_of:
                tid = last_of[f"chat:{contact}"]
            else:
                days = sms_days[(sms_days["source_id"] == contact) & (sms_days["started_at"] <= responded_at)]
                tid = days["transaction_id"].iloc[-1] if len(days) else None
        rated.append(tid)
    return pd.Series(rated, index=surveys.index, dtype=object)


def build(exports: Exports, kb: KnowledgeBase | None = None, params: Params | None = None) -> Hierarchy:
    kb = kb or KnowledgeBase.load()
    params = params or Params()
    gap = timedelta(minutes=params.session_gap_minutes)
    calls = exports["calls"].copy()
    calls["root_call_id"] = calls["call_id"].map(_root_of(calls))
    records, crm_refs = _identity_records(exports, calls)
    identity = resolve(records, crm_refs, params.max_customers_per_identifier)
    customer_of_record = {record_id: identity.customer_of(record_id, ids) for record_id, ids in records}
    calls["customer_key"] = ("call:" + calls["root_call_id"]).map(customer_of_record)

    ivr = _ivr_transactions(exports, kb)
    faq, views = _faq_transactions(exports, kb, gap)
    parts = [
        ivr,
        _call_leg_transactions(calls, set(exports["ivr_events"]["call_id"]), kb),
        _chat_transactions(exports, kb),
        _sms_transactions(exports),
        faq,
        _form_transactions(exports, kb),
        ticket_transactions(exports.tickets, kb.intent_of),
    ]
    transactions = pd.concat([p for p in parts if len(p)], ignore_index=True)
    for column in ("queue", "agent_id", "source_id", "bot_intent"):
        if column not in transactions:
            transactions[column] = None
    transactions["channel"] = transactions["transaction_type"].map(CHANNEL)
    transactions["is_assisted"] = transactions["transaction_type"].isin(ASSISTED_TYPES)
    transactions["resolution_known"] = transactions["resolution_known"].fillna(True).astype(bool)
    transactions["customer_key"] = transactions["record_id"].map(customer_of_record)
    data_end = transactions["ended_at"].max()

    interactions = _interactions(transactions, kb, gap)
    interaction_intent = dict(zip(interactions["interaction_id"], interactions["intent"], strict=True))
    # effective intent (DECISIONS "compare intents with a fallback"): the transaction's own known intent, else
    # its interaction's known intent, else none (such uses are left out of self-service failure).
    own = transactions["intent"].where(transactions["intent"].map(kb.is_known))
    fallback = transactions["interaction_id"].map(interaction_intent)
    transactions["effective_intent"] = own.fillna(fallback.where(fallback.map(kb.is_known)))

    interactions, engagements = _engagements(interactions, timedelta(days=params.engagement_window_days), data_end, kb)

    surveys = exports["surveys"].copy()
    surveys["respondent_customer"] = [
        identity.customer_of(f"survey:{rid}", respondent_identifier(r))
        for rid, r in surveys[["response_id", "respondent"]].itertuples(False)
    ]
    surveys["transaction_id"] = _rated_transactions(transactions, surveys)
    by_tid = transactions.set_index("transaction_id")
    surveys["customer_key"] = (
        surveys["transaction_id"].map(by_tid["customer_key"]).fillna(surveys["respondent_customer"])
    )
    surveys["agent_id"] = surveys["transaction_id"].map(by_tid["agent_id"])
    surveys["interaction_id"] = surveys["transaction_id"].map(by_tid["interaction_id"])
    low, high = surveys["survey_type"].map({"nps": 0, "csat": 1}), surveys["survey_type"].map({"nps": 10, "csat": 5})
    surveys["is_valid"] = surveys["score"].between(low, high) & (surveys["score"] % 1 == 0)
    return Hierarchy(
        exports=exports,
        kb=kb,
        identity=identity,
        calls=calls,
        transactions=transactions,
        interactions=interactions,
        engagements=engagements,
        surveys=surveys,
        faq_views=views,
        data_end=data_end,
        params=params,
    )
