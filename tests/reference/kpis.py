"""Every cockpit KPI (DOMAIN.md section 5) recomputed from the reference hierarchy.

Each function returns a frame with one row per slice: `slice` ("all", or "<dimension>=<value>"), `num` and `den`
(the KPI is num/den; for a count, `den` is NULL). "Who started the contact is part of every definition": customer
demand (repeat contacts, self-service failure, duplicates, FCR's further contact) counts customer-initiated
contacts only.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from tests.reference.hierarchy import Hierarchy
from tests.reference.tickets import rating_answers

# DECISIONS.md "Chat ratings are CSAT answers": the chat export's own 1-5 `rating` is a CSAT answer of the chat
# channel, dated when the conversation closed. Flip to False to count survey-tool answers only.
CSAT_INCLUDES_CHAT_RATINGS = True
# docs/kpis.md (CSAT), DECISIONS "Ticket ratings are CSAT answers": a help-desk ticket's good / bad rating is a CSAT
# answer (5 / 1) of the email channel (tickets.rating_answers). Flip to False to leave them out.
CSAT_INCLUDES_TICKET_RATINGS = True
MEDIUM = {
    "ivr": "voice",
    "voice": "voice",
    "chat": "chat",
    "sms": "sms",
    "faq": "faq",
    "form": "form",
    "email": "email",
}


def _slices(frame: pd.DataFrame, num: str, den: str | None, by: list[str], dated_by: str | None = None) -> pd.DataFrame:
    """Overall row plus one row per value of each dimension in ``by``; with ``dated_by`` (a timestamp column), also
    one row per day, week (from Monday) and month (`day=YYYY-MM-DD`, reporting time zone UTC)."""
    if dated_by is not None:
        day = frame[dated_by].dt.floor("D")
        frame = frame.assign(
            day=day.dt.strftime("%Y-%m-%d"),
            week=(day - pd.to_timedelta(day.dt.dayofweek, unit="D")).dt.strftime("%Y-%m-%d"),  # weeks from Monday
            month=day.dt.strftime("%Y-%m-01"),
        )
        by = [*by, "day", "week", "month"]
    rows = [{"slice": "all", "num": frame[num].sum(), "den": frame[den].sum() if den else np.nan}]
    for dimension in by:
        grouped = frame.groupby(frame[dimension].fillna("none"))
        for value, group in grouped:
            rows.append(
                {
                    "slice": f"{dimension}={value}",
                    "num": group[num].sum(),
                    "den": group[den].sum() if den else np.nan,
                }
            )
    return pd.DataFrame(rows)


def _followed(
    uses: pd.DataFrame,
    followers: pd.DataFrame,
    on: list[str],
    use_end: str,
    follower_start: str,
    within: timedelta,
) -> pd.Series:
    """For each use, whether a follower with the same ``on`` keys starts after the use ends, within ``within``."""
    left = uses[[*on, use_end]].rename(columns={use_end: "_end"}).reset_index(names="_use")
    right = followers[[*on, follower_start]].rename(columns={follower_start: "_start"})
    pairs = left.merge(right, on=on)
    hit = (pairs["_start"] > pairs["_end"]) & (pairs["_start"] <= pairs["_end"] + within)
    hits = set(pairs.loc[hit, "_use"])
    return pd.Series(uses.index.isin(list(hits)), index=uses.index)


# --- voice --------------------------------------------------------------------------------------------------------


def transfer_rate(h: Hierarchy) -> pd.DataFrame:
    """Answered INBOUND calls (all legs of a call together) with at least one transfer, over answered inbound calls;
    an outbound call is company-initiated and never in the denominator."""
    calls = h.calls
    per_call = calls.groupby("root_call_id").agg(
        answered=("answered_at", lambda s: s.notna().any()),
        transferred=("parent_call_id", lambda s: s.notna().any()),
    )
    roots = calls[calls["call_id"] == calls["root_call_id"]].set_index("call_id")
    # A call is dated by its first leg's start, when the customer dialled (docs/kpis.md, "Which day"): a call that
    # rang before midnight and queued after it belongs to the day it came in.
    roots = roots.assign(dated=roots["started_at"])
    per_call = per_call.join(roots[["direction", "queue", "dated"]])
    answered = per_call[(per_call["direction"] == "inbound") & per_call["answered"]].copy()
    answered["n"] = 1
    answered["t"] = answered["transferred"].astype(int)
    return _slices(answered, "t", "n", ["queue"], "dated")


def transfer_paths(h: Hierarchy) -> pd.DataFrame:
    """Transfers counted from the parent leg's queue to the new leg's queue."""
    calls = h.calls
    queue_of = dict(zip(calls["call_id"], calls["queue"].fillna("none"), strict=True))
    child = calls[calls["parent_call_id"].notna()].copy()
    child["path"] = child["parent_call_id"].map(queue_of).fillna("none") + " > " + child["queue"].fillna("none")
    child["n"] = 1
    return _slices(child, "n", None, ["path"])


def _queued_legs(h: Hierarchy) -> pd.DataFrame:
    legs = h.calls[h.calls["queued_at"].notna()].copy()
    legs["entered"] = 1
    legs["answered"] = legs["answered_at"].notna().astype(int)
    legs["wait"] = (legs["answered_at"] - legs["queued_at"]).dt.total_seconds().where(legs["answered"] == 1, 0)
    legs["abandoned"] = ((legs["answered"] == 0) & (legs["status"] == "abandoned")).astype(int)
    legs["within_sl"] = ((legs["answered"] == 1) & (legs["wait"] <= h.params.service_level_seconds)).astype(int)
    return legs


def asa(h: Hierarchy) -> pd.DataFrame:
    """Mean of answered_at - queued_at over legs that queued and were answered."""
    return _slices(_queued_legs(h), "wait", "answered", ["queue"], "queued_at")


def abandonment(h: Hierarchy) -> pd.DataFrame:
    """Legs abandoned in the queue over legs that entered a queue (IVR hang-ups never queued)."""
    return _slices(_queued_legs(h), "abandoned", "entered", ["queue"], "queued_at")


def service_level(h: Hierarchy) -> pd.DataFrame:
    """Legs answered within service_level_seconds over legs that entered a queue."""
    return _slices(_queued_legs(h), "within_sl", "entered", ["queue"], "queued_at")


def _handled(h: Hierarchy) -> pd.DataFrame:
    """Answered call legs (talk = answered to end, + hold + wrap) and agent chats (their agent part)."""
    legs = h.calls[h.calls["answered_at"].notna()]
    talk = (legs["ended_at"] - legs["answered_at"]).dt.total_seconds().clip(lower=0)
    voice = pd.DataFrame(
        {
            "channel": "voice",
            "agent_id": legs["agent_id"],
            "seconds": talk + legs["hold_seconds"].fillna(0) + legs["wrap_seconds"].fillna(0),
            "n": 1,
            "call_id": legs["call_id"],
            "dated": legs["queued_at"].fillna(legs["started_at"]),
        }
    )
    chats = h.transactions[h.transactions["transaction_type"] == "chat_agent"]
    chat = pd.DataFrame(
        {
            "channel": "chat",
            "agent_id": chats["agent_id"],
            "seconds": (chats["ended_at"] - chats["started_at"]).dt.total_seconds(),
            "n": 1,
            "call_id": None,
            "dated": chats["started_at"],
        }
    )
    return pd.concat([voice, chat], ignore_index=True)


def aht(h: Hierarchy) -> pd.DataFrame:
    return _slices(_handled(h), "seconds", "n", ["channel"], "dated")


def dead_air(h: Hierarchy) -> pd.DataFrame:
    """Answered legs whose silence exceeds dead_air_seconds, over answered legs."""
    legs = h.calls[h.calls["answered_at"].notna()].copy()
    legs["n"] = 1
    legs["dead"] = (legs["silence_seconds"] > h.params.dead_air_seconds).astype(int)
    legs["dated"] = legs["queued_at"].fillna(legs["started_at"])
    return _slices(legs, "dead", "n", ["queue"], "dated")


# --- satisfaction -------------------------------------------------------------------------------------------------


def _answers(h: Hierarchy, kind: str) -> pd.DataFrame:
    answers = h.surveys[(h.surveys["survey_type"] == kind) & h.surveys["is_valid"]].copy()
    if kind == "csat" and CSAT_INCLUDES_CHAT_RATINGS:
        chats = h.exports["chats"]
        rated = chats[chats["rating"].notna()]
        rated = rated[rated["rating"].astype(float).between(1, 5)]
        last_message = h.exports["chat_messages"].groupby("conversation_id")["sent_at"].max()
        dated = rated["closed_at"].fillna(rated["conversation_id"].map(last_message)).fillna(rated["created_at"])
        ratings = pd.DataFrame(
            {
                "survey_type": "csat",
                "channel": "chat",
                "score": rated["rating"].astype(float),
                "responded_at": dated,
                # the rating rates the conversation: its agent, when one took it over
                "agent_id": rated["agent_id"],
            }
        )
        answers = pd.concat([answers, ratings], ignore_index=True)
    if kind == "csat" and CSAT_INCLUDES_TICKET_RATINGS and h.exports.tickets:
        answers = pd.concat([answers, rating_answers(h.exports.tickets, h.transactions)], ignore_index=True)
    answers["n"] = 1
    answers["channel"] = answers["channel"].fillna("unknown")
    return answers


def nps(h: Hierarchy) -> pd.DataFrame:
    """num = promoters (9-10) - detractors (0-6), den = valid NPS answers; NPS = 100 * num / den."""
    answers = _answers(h, "nps")
    answers["net"] = (answers["score"] >= 9).astype(int) - (answers["score"] <= 6).astype(int)
    return _slices(answers, "net", "n", ["channel"], "responded_at")


def csat(h: Hierarchy) -> pd.DataFrame:
    """Top-two box: valid CSAT answers scoring 4 or 5 over valid CSAT answers."""
    answers = _answers(h, "csat")
    answers["top2"] = (answers["score"] >= 4).astype(int)
    return _slices(answers, "top2", "n", ["channel"], "responded_at")


def csat_mean(h: Hierarchy) -> pd.DataFrame:
    return _slices(_answers(h, "csat"), "score", "n", ["channel"], "responded_at")


# --- resolution ---------------------------------------------------------------------------------------------------


def _customer_initiated_interactions(h: Hierarchy) -> pd.DataFrame:
    i = h.interactions
    return i[i["is_customer_initiated"] & i["intent"].map(h.kb.is_known)]


def fcr_frame(h: Hierarchy) -> pd.DataFrame:
    """Closed engagements resolved by their first interaction with no further customer-initiated contact of the
    customer on the intent within the window after that interaction, over closed FCR-eligible engagements.

    Closed: the window after the last contact ended before the data's end. Eligible: a known intent (not unknown,
    not unmapped) and at least one customer-initiated interaction (an engagement of company calls alone cannot
    measure the customer's first contact)."""
    e = h.engagements
    # ... and the export says whether the first interaction resolved it (DECISIONS "No resolution data is no data").
    eligible = e[
        e["window_complete"]
        & e["intent"].map(h.kb.is_known)
        & e["customer_initiated"]
        & e["first_interaction_resolution_known"]
    ].copy()
    window = timedelta(days=h.params.engagement_window_days)
    followers = _customer_initiated_interactions(h)
    again = _followed(eligible, followers, ["customer_key", "intent"], "first_interaction_end", "started_at", window)
    eligible["n"] = 1
    eligible["fcr"] = (eligible["first_interaction_resolved"] & ~again).astype(int)
    return eligible


def fcr(h: Hierarchy) -> pd.DataFrame:
    return _slices(fcr_frame(h), "fcr", "n", ["intent", "first_channel"], "started_at")


def repeat_contact(h: Hierarchy) -> pd.DataFrame:
    """Interactions with a known intent followed by another customer-initiated interaction of the same customer on
    the same intent starting within engagement_window_days of their end, over interactions with a known intent
    (whoever started them: the denominator of DOMAIN.md is "interactions with a known intent")."""
    i = h.interactions
    known = i[i["intent"].map(h.kb.is_known)].copy()
    window = timedelta(days=h.params.engagement_window_days)
    followers = _customer_initiated_interactions(h)
    known["rep"] = _followed(known, followers, ["customer_key", "intent"], "ended_at", "started_at", window).astype(int)
    known["n"] = 1
    return _slices(known, "rep", "n", ["intent", "first_channel"], "started_at")


def resolution_rate(h: Hierarchy) -> pd.DataFrame:
    """Resolved engagements over engagements whose resolution is known (docs/kpis.md "Resolution rate": all
    engagements, whatever their intent or initiator; an export that never reports resolution gives no data)."""
    e = h.engagements[h.engagements["resolution_known"]].assign(n=1)
    e["resolved"] = e["is_resolved"].astype(int)
    return _slices(e, "resolved", "n", ["intent", "first_channel"], "started_at")


def interactions_volume(h: Hierarchy) -> pd.DataFrame:
    """Interactions started, per intent (the volume-patterns contacts summed over weekdays and hours)."""
    i = h.interactions.assign(n=1)
    return _slices(i, "n", None, ["intent", "first_channel"], "started_at")


def volume_patterns(h: Hierarchy) -> pd.DataFrame:
    """Contacts (interactions started) per intent and per ISO weekday of their start, reporting time zone UTC."""
    i = h.interactions.assign(n=1)
    i["weekday"] = i["started_at"].dt.dayofweek + 1
    return _slices(i, "n", None, ["intent", "weekday"])


# --- self-service -------------------------------------------------------------------------------------------------


def _assisted_customer_contacts(h: Hierarchy) -> pd.DataFrame:
    t = h.transactions
    return t[t["is_assisted"] & (t["direction"] == "inbound")]


def _self_service_uses(h: Hierarchy) -> pd.DataFrame:
    t = h.transactions
    kind = np.select(
        [
            t["transaction_type"] == "faq_visit",
            (t["transaction_type"] == "chat_bot") & (t["outcome"] == "bot_only"),
            (t["transaction_type"] == "ivr") & (t["outcome"] == "contained"),
        ],
        ["faq_visit", "bot_only_chat", "contained_ivr"],
        default="",
    )
    uses = t.assign(use_type=kind)
    return uses[uses["use_type"] != ""].copy()


def self_service_failure(h: Hierarchy) -> pd.DataFrame:
    """Self-service uses with a known (effective) intent followed by a customer-initiated assisted contact of the
    same customer on the same intent that STARTS AFTER THE USE ENDS, within deflection_window_hours."""
    uses = _self_service_uses(h)
    uses = uses[uses["effective_intent"].notna()].copy()
    within = timedelta(hours=h.params.deflection_window_hours)
    uses["failed"] = _followed(
        uses, _assisted_customer_contacts(h), ["customer_key", "effective_intent"], "ended_at", "started_at", within
    ).astype(int)
    uses["n"] = 1
    uses["intent"] = uses["effective_intent"]
    return _slices(uses, "failed", "n", ["use_type", "intent"], "started_at")


def self_service_failure_by_article(h: Hierarchy) -> pd.DataFrame:
    """Per FAQ article: visits that read it, failed when followed as above on the ARTICLE's own intent."""
    views = h.faq_views
    reads = views.drop_duplicates(["visit_id", "article_id"])[["visit_id", "article_id"]].copy()
    reads["intent"] = [h.kb.intent_of([("faq_article", a)]) for a in reads["article_id"]]
    visits = h.transactions[h.transactions["transaction_type"] == "faq_visit"].set_index("source_id")
    reads["customer_key"] = reads["visit_id"].map(visits["customer_key"])
    reads["ended_at"] = reads["visit_id"].map(visits["ended_at"])
    reads = reads[reads["intent"].map(h.kb.is_known)].reset_index(drop=True)
    within = timedelta(hours=h.params.deflection_window_hours)
    followers = _assisted_customer_contacts(h).drop(columns="intent").rename(columns={"effective_intent": "intent"})
    reads["failed"] = _followed(reads, followers, ["customer_key", "intent"], "ended_at", "started_at", within)
    reads["failed"] = reads["failed"].astype(int)
    reads["n"] = 1
    return _slices(reads, "failed", "n", ["article_id"])


def self_service_failure_by_bot_intent(h: Hierarchy) -> pd.DataFrame:
    uses = _self_service_uses(h)
    chats = uses[(uses["use_type"] == "bot_only_chat") & uses["effective_intent"].notna()].copy()
    within = timedelta(hours=h.params.deflection_window_hours)
    chats["failed"] = _followed(
        chats, _assisted_customer_contacts(h), ["customer_key", "effective_intent"], "ended_at", "started_at", within
    ).astype(int)
    chats["n"] = 1
    return _slices(chats, "failed", "n", ["bot_intent"])


def cross_channel_duplicates(h: Hierarchy) -> pd.DataFrame:
    """Form submissions followed by a customer-initiated chat, call or ticket of the same customer on the same intent
    (by the contact's own codes: any of its transactions' own intent) within duplicate_window_hours of the submission,
    over all form submissions. A company callback after a callback-request form is not a duplicate."""
    t = h.transactions
    forms = t[t["transaction_type"] == "form"].copy()
    forms["form_intent"] = forms["intent"].fillna("unknown")
    contact_parts = t[t["transaction_type"].isin(["ivr", "call_leg", "chat_bot", "chat_agent", "ticket_request"])]
    contacts = contact_parts.groupby("contact_id").agg(
        customer_key=("customer_key", "first"),
        contact_start=("started_at", "min"),
        inbound=("direction", lambda s: (s == "inbound").any()),
    )
    contacts = contacts[contacts["inbound"]]
    intents = contact_parts[contact_parts["intent"].map(h.kb.is_known)][["contact_id", "intent"]].drop_duplicates()
    followers = intents.join(contacts, on="contact_id", how="inner").rename(columns={"intent": "form_intent"})
    within = timedelta(hours=h.params.duplicate_window_hours)
    forms["dup"] = _followed(forms, followers, ["customer_key", "form_intent"], "started_at", "contact_start", within)
    forms["dup"] = forms["dup"].astype(int)
    forms["n"] = 1
    forms["intent"] = forms["form_intent"]
    return _slices(forms, "dup", "n", ["intent"], "started_at")


# --- IVR ----------------------------------------------------------------------------------------------------------


def _ivr_calls(h: Hierarchy) -> pd.DataFrame:
    t = h.transactions
    calls = t[t["transaction_type"] == "ivr"].copy()
    calls["n"] = 1
    calls["contained"] = (calls["outcome"] == "contained").astype(int)
    calls["dropped"] = (calls["outcome"] == "dropped").astype(int)
    calls["menu_seconds"] = (calls["ended_at"] - calls["started_at"]).dt.total_seconds()
    assisted = _assisted_customer_contacts(h)
    within = timedelta(hours=h.params.deflection_window_hours)
    # True containment: no customer-initiated assisted contact of the caller, whatever its intent, within the window.
    followed = _followed(calls, assisted, ["customer_key"], "ended_at", "started_at", within)
    calls["truly_contained"] = ((calls["contained"] == 1) & ~followed).astype(int)
    calls["intent"] = calls["effective_intent"].fillna("unknown")
    return calls


def ivr_containment(h: Hierarchy) -> pd.DataFrame:
    return _slices(_ivr_calls(h), "contained", "n", ["intent"], "started_at")


def ivr_true_containment(h: Hierarchy) -> pd.DataFrame:
    return _slices(_ivr_calls(h), "truly_contained", "n", [])


def ivr_drop_off(h: Hierarchy) -> pd.DataFrame:
    return _slices(_ivr_calls(h), "dropped", "n", [])


def ivr_menu_seconds(h: Hierarchy) -> pd.DataFrame:
    return _slices(_ivr_calls(h), "menu_seconds", "n", [])


def _node_visits(h: Hierarchy) -> pd.DataFrame:
    events = h.exports["ivr_events"].sort_values(["call_id", "seq"])
    last_event = events.groupby("call_id")["event_at"].max()
    enters = events[events["event_type"] == "menu_enter"].copy()
    enters["next_at"] = enters.groupby("call_id")["event_at"].shift(-1)
    enters["next_at"] = enters["next_at"].fillna(enters["call_id"].map(last_event))
    enters["dwell"] = (enters["next_at"] - enters["event_at"]).dt.total_seconds()
    enters["n"] = 1
    ivr = h.transactions[h.transactions["transaction_type"] == "ivr"].set_index("source_id", drop=False)
    outcome = dict(zip(ivr["contact_id"].str.removeprefix("call:"), ivr["outcome"], strict=True))
    last_enter = enters.groupby("call_id").tail(1).index
    enters["drop"] = (enters.index.isin(last_enter) & (enters["call_id"].map(outcome) == "dropped")).astype(int)
    return enters


def ivr_node_drop_off(h: Hierarchy) -> pd.DataFrame:
    """Per node: calls whose IVR ended (hang-up or no input) at this node, their last menu, over visits."""
    return _slices(_node_visits(h), "drop", "n", ["node"])


def ivr_node_dwell(h: Hierarchy) -> pd.DataFrame:
    """Per node: seconds from entering the menu to the call's next menu (or its last IVR event), over visits."""
    return _slices(_node_visits(h), "dwell", "n", ["node"])


# --- channel mix, solution effectiveness --------------------------------------------------------------------------


def channel_mix(h: Hierarchy) -> pd.DataFrame:
    """Per intent and first channel: interactions of the intent starting on the channel over the intent's."""
    i = h.interactions
    totals = i.groupby("intent").size()
    rows = [
        {"slice": f"intent={intent}|channel={channel}", "num": n, "den": totals[intent]}
        for (intent, channel), n in i.groupby(["intent", "first_channel"]).size().items()
    ]
    return pd.DataFrame(rows)


def solution_effectiveness(h: Hierarchy) -> pd.DataFrame:
    """Per starting medium (IVR and voice are one medium, voice): closed engagements (resolved, or unresolved past
    their window) resolved within one medium, over closed engagements."""
    e = h.engagements
    closed = e[e["is_resolved"] | e["window_complete"]].copy()
    closed["medium"] = closed["first_channel"].map(MEDIUM)
    closed["same"] = closed["is_resolved"] & closed["channels"].map(lambda c: len({MEDIUM[x] for x in c}) == 1)
    closed["same"] = closed["same"].astype(int)
    closed["n"] = 1
    return _slices(closed, "same", "n", ["medium"])


# --- agents -------------------------------------------------------------------------------------------------------


def agent_handled(h: Hierarchy) -> pd.DataFrame:
    return _slices(_handled(h).dropna(subset=["agent_id"]), "n", None, ["agent_id"])


def agent_aht(h: Hierarchy) -> pd.DataFrame:
    return _slices(_handled(h).dropna(subset=["agent_id"]), "seconds", "n", ["agent_id"])


def agent_transfer_out(h: Hierarchy) -> pd.DataFrame:
    """Answered legs the agent transferred on (a leg names it as parent) over legs the agent answered."""
    legs = h.calls[h.calls["answered_at"].notna() & h.calls["agent_id"].notna()].copy()
    parents = set(h.calls["parent_call_id"].dropna())
    legs["t"] = legs["call_id"].isin(parents).astype(int)
    legs["n"] = 1
    return _slices(legs, "t", "n", ["agent_id"])


def agent_csat(h: Hierarchy) -> pd.DataFrame:
    """Valid CSAT answers whose rated transaction (the last of the contact) the agent served."""
    answers = _answers(h, "csat")
    answers = answers[answers["agent_id"].notna()].copy()
    answers["top2"] = (answers["score"] >= 4).astype(int)
    return _slices(answers, "top2", "n", ["agent_id"])


def agent_fcr(h: Hierarchy) -> pd.DataFrame:
    """FCR of the closed, eligible engagements whose first interaction the agent handled (its last agent), per
    agent and per agent-week (the scorecard's grain, where coaching flags are set; weeks from Monday, by the
    engagement's start)."""
    frame = fcr_frame(h)
    frame = frame[frame["first_agent_id"].notna()].copy()
    day = frame["started_at"].dt.floor("D")
    week = (day - pd.to_timedelta(day.dt.dayofweek, unit="D")).dt.strftime("%Y-%m-%d")
    frame["agent_week"] = frame["first_agent_id"] + "/" + week
    return _slices(frame, "fcr", "n", ["first_agent_id", "agent_week"])


def agent_negative_sentiment(h: Hierarchy) -> pd.DataFrame:
    """Negative interactions among the scored interactions the agent handled last."""
    i = _interaction_sentiment(h)
    return _slices(i[i["last_agent_id"].notna()], "negative", "n", ["last_agent_id"])


# --- customers, compliance ----------------------------------------------------------------------------------------


def customer_segments(h: Hierarchy) -> pd.DataFrame:
    """Counts of customers with contacts in each segment (a customer can be in several)."""
    i = h.interactions
    with_contacts = set(i["customer_key"])
    frequent = set()
    # frequent contacter: >= 3 interactions the customer started within 30 days (docs/kpis.md)
    own = i[i["is_customer_initiated"]]
    for customer, starts in own.sort_values("started_at").groupby("customer_key")["started_at"]:
        values = starts.to_list()
        # windows are half-open (docs/kpis.md, "Windows"): the third contact must start before 30 days are over
        if any(values[k + 2] - values[k] < timedelta(days=30) for k in range(len(values) - 2)):
            frequent.add(customer)
    crm = h.exports["customers"].set_index("customer_ref")
    high = {c for c in with_contacts if crm["value_tier"].get(h.identity.crm_of_customer.get(c)) == "high"}
    answers = h.surveys[(h.surveys["survey_type"] == "nps") & h.surveys["is_valid"]].sort_values("responded_at")
    latest = answers.groupby("customer_key")["score"].last()
    detractors = set(latest[latest <= 6].index)
    # at risk (DECISIONS "At risk means the latest problem a person handled stayed unresolved"): the customer's
    # most recent engagement was assisted, has a known intent, was started by the customer, has resolution data
    # (for its first contact and as a whole), its window is over and it is unresolved.
    last = h.engagements.sort_values(["started_at", "engagement_id"]).groupby("customer_key").tail(1)
    stale = last[
        ~last["is_resolved"]
        & last["window_complete"]
        & last["intent"].map(h.kb.is_known)
        & last["customer_initiated"]
        & last["assisted"]
        & last["resolution_known"]
        & last["first_interaction_resolution_known"]
    ]
    at_risk = (detractors | set(stale["customer_key"])) & with_contacts
    return pd.DataFrame(
        [
            {"slice": "customers_with_contacts", "num": len(with_contacts), "den": np.nan},
            {"slice": "segment=frequent_contacter", "num": len(frequent), "den": np.nan},
            {"slice": "segment=high_value", "num": len(high), "den": np.nan},
            {"slice": "segment=at_risk", "num": len(at_risk), "den": np.nan},
        ]
    )


def _outbound_legs(h: Hierarchy) -> pd.DataFrame:
    legs = h.calls[h.calls["direction"] == "outbound"].copy()
    legs["crm_ref"] = legs["customer_key"].map(h.identity.crm_of_customer)
    return legs


def calling_hours(h: Hierarchy) -> pd.DataFrame:
    """Outbound legs started outside 08:00-21:00 in the called customer's CRM time zone, or with no known zone."""
    legs = _outbound_legs(h)
    tz = h.exports["customers"].set_index("customer_ref")["timezone"]
    status = []
    for started, ref in legs[["started_at", "crm_ref"]].itertuples(False):
        zone = tz.get(ref) if isinstance(ref, str) else None
        if not isinstance(zone, str):
            status.append("unknown_timezone")
            continue
        hour = started.tz_localize("UTC").tz_convert(ZoneInfo(zone)).hour
        status.append("outside_hours" if hour < 8 or hour >= 21 else "")
    legs["status_flag"] = status
    flagged = legs[legs["status_flag"] != ""].assign(n=1)
    rows = [{"slice": "all", "num": len(flagged), "den": np.nan}]
    for flag in ("outside_hours", "unknown_timezone"):
        rows.append({"slice": f"status={flag}", "num": int((flagged["status_flag"] == flag).sum()), "den": np.nan})
    return pd.DataFrame(rows)


def calling_hours_call_ids(h: Hierarchy) -> set[str]:
    legs = _outbound_legs(h)
    tz = h.exports["customers"].set_index("customer_ref")["timezone"]
    flagged = set()
    for call_id, started, ref in legs[["call_id", "started_at", "crm_ref"]].itertuples(False):
        zone = tz.get(ref) if isinstance(ref, str) else None
        if not isinstance(zone, str):
            flagged.add(call_id)
            continue
        hour = started.tz_localize("UTC").tz_convert(ZoneInfo(zone)).hour
        if hour < 8 or hour >= 21:
            flagged.add(call_id)
    return flagged


def contact_frequency(h: Hierarchy) -> pd.DataFrame:
    """Customers with more than max_attempts_per_7_days outbound legs in a window [attempt, attempt + 7 days),
    and the attempts that fall in such a window."""
    legs = _outbound_legs(h)
    limit, week = h.params.max_attempts_per_7_days, timedelta(days=7)
    customers, attempts = set(), set()
    for customer, group in legs.sort_values("started_at").groupby("customer_key"):
        times, ids = group["started_at"].to_list(), group["call_id"].to_list()
        for k, start in enumerate(times):
            inside = [j for j in range(k, len(times)) if times[j] < start + week]
            if len(inside) > limit:
                customers.add(customer)
                attempts.update(ids[j] for j in inside)
    return pd.DataFrame(
        [
            {"slice": "customers_over_limit", "num": len(customers), "den": np.nan},
            {"slice": "attempts_in_over_limit_windows", "num": len(attempts), "den": np.nan},
        ]
    )


# --- sentiment ----------------------------------------------------------------------------------------------------


@cache
def _analyzer():  # vaderSentiment ships no type hints
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def compound(text: str) -> float:
    """VADER compound score of a text, 4 decimals (Hutto and Gilbert, 2014)."""
    return round(_analyzer().polarity_scores(text)["compound"], 4)


def scored_texts(h: Hierarchy) -> pd.DataFrame:
    """Customer and agent chat messages (bot messages are scripted), inbound texts and survey comments, each with
    the interaction it belongs to (a survey comment: the rated contact's); empty texts are not scored."""
    t = h.transactions
    chat_interaction = dict(zip(t["contact_id"], t["interaction_id"], strict=False))
    messages = h.exports["chat_messages"]
    messages = messages[messages["author"].isin(["customer", "agent"])]
    chats = pd.DataFrame(
        {
            "source_type": "chat_message",
            "channel": "chat",
            "author_role": messages["author"],
            "text": messages["text"],
            "written_at": messages["sent_at"],
            "interaction_id": ("chat:" + messages["conversation_id"]).map(chat_interaction),
        }
    )
    sms = h.exports["sms"]
    sms = sms[sms["direction"] == "inbound"]
    days = t[t["transaction_type"] == "sms_thread_day"].set_index("transaction_id")["interaction_id"]
    day_id = "sms:" + sms["thread_id"] + ":" + sms["sent_at"].dt.strftime("%Y-%m-%d")
    texts = pd.DataFrame(
        {
            "source_type": "sms",
            "channel": "sms",
            "author_role": "customer",
            "text": sms["body"],
            "written_at": sms["sent_at"],
            "interaction_id": day_id.map(days),
        }
    )
    surveys = h.surveys
    comments = pd.DataFrame(
        {
            "source_type": "survey_comment",
            "channel": surveys["channel"].fillna("unknown"),
            "author_role": "customer",
            "text": surveys["comment"],
            "written_at": surveys["responded_at"],
            "interaction_id": surveys["interaction_id"],
        }
    )
    out = pd.concat([chats, texts, comments], ignore_index=True)
    out = out[out["text"].notna() & (out["text"].astype(str).str.strip() != "")].copy()
    out["compound"] = out["text"].astype(str).map(compound)
    out["n"] = 1
    out["negative"] = (out["compound"] <= -0.05).astype(int)
    out["positive"] = (out["compound"] >= 0.05).astype(int)
    out["text_kind"] = out["source_type"] + "/" + out["author_role"]
    return out


def _interaction_sentiment(h: Hierarchy) -> pd.DataFrame:
    texts = scored_texts(h)
    customer = texts[(texts["author_role"] == "customer") & texts["interaction_id"].notna()]
    mean = customer.groupby("interaction_id")["compound"].mean().round(4)
    i = h.interactions.set_index("interaction_id").loc[mean.index].reset_index()
    i["mean_compound"] = mean.to_numpy()
    i["n"] = 1
    i["negative"] = (i["mean_compound"] <= -0.05).astype(int)
    i["positive"] = (i["mean_compound"] >= 0.05).astype(int)
    return i


def negative_interaction_share(h: Hierarchy) -> pd.DataFrame:
    """Interactions whose customer texts average a compound <= -0.05, over interactions with scored customer texts."""
    return _slices(_interaction_sentiment(h), "negative", "n", ["first_channel", "intent"], "started_at")


def positive_interaction_share(h: Hierarchy) -> pd.DataFrame:
    return _slices(_interaction_sentiment(h), "positive", "n", ["first_channel"])


def negative_text_share(h: Hierarchy) -> pd.DataFrame:
    return _slices(scored_texts(h), "negative", "n", ["text_kind", "channel"], "written_at")


def positive_text_share(h: Hierarchy) -> pd.DataFrame:
    return _slices(scored_texts(h), "positive", "n", ["text_kind"])
