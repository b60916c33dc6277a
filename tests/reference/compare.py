"""Compare the reference KPIs with the marts of a built warehouse: one row per figure and slice."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from tests.reference import kpis, queue_hours, ticket_kpis
from tests.reference.exports import read_exports
from tests.reference.hierarchy import Hierarchy, build

RATE_TOLERANCE = 0.005  # relative, DOMAIN-agnostic: 0.5 % of the larger value
NPS_TOLERANCE = 0.5  # NPS points (0.5 % of its -100..100 scale; relative error is meaningless near 0)


@dataclass(frozen=True)
class Figure:
    """A KPI: how the reference computes it and which mart columns hold it.

    ``mart_sql`` selects `dimension`, `value` (slice value, NULL for the overall row), `num`, `den` from the marts
    schema (written `{marts}`); ``kind`` is rate (num/den), mean (num/den), nps (100 num/den) or count (num)."""

    name: str
    kind: str
    reference: Callable[[Hierarchy], pd.DataFrame]
    mart_sql: str
    dimensions: tuple[str, ...] = ()
    headline: bool = False
    has_overall: bool = True

    @property
    def groups(self) -> tuple[str, ...]:
        """The slice groups the test compares: the overall row, then one group per dimension."""
        return (("all",) if self.has_overall else ()) + self.dimensions


DAY = "day:cast(period_start as varchar)"  # the day rows' date, as the reference's `day=YYYY-MM-DD`


def _sql(table: str, num: str, den: str | None, dims: tuple[str, ...], where: str = "period_grain = 'day'") -> str:
    den_sql = f"sum({den})" if den else "null"
    parts = [
        f"select 'all' as dimension, null as value, sum({num}) as num, {den_sql} as den "
        f"from {{marts}}.{table} where {where}"
    ]
    for dim in dims:
        column = dim.split(":", 1)[-1]
        label = dim.split(":", 1)[0]
        parts.append(
            f"select '{label}', coalesce(cast({column} as varchar), 'none'), sum({num}), {den_sql} "
            f"from {{marts}}.{table} where {where} group by 2"
        )
        if dim == DAY:  # the week (from Monday) and month roll-ups of the same mart
            for grain in ("week", "month"):
                grain_where = where.replace("'day'", f"'{grain}'")
                parts.append(
                    f"select '{grain}', cast(period_start as varchar), sum({num}), {den_sql} "
                    f"from {{marts}}.{table} where {grain_where} group by 2"
                )
    return " union all ".join(parts)


QUEUE = "mart_queue_performance"
TICKET_DIMS = ("group:ticket_group", "agent:agent_id", "intent:ticket_intent", "channel:ticket_channel")
VOICE = "period_grain = 'day' and channel = 'voice'"
FIGURES: list[Figure] = [
    Figure("transfer_rate", "rate", kpis.transfer_rate,
           _sql("mart_transfers", "transferred_calls", "transfer_answered_calls", ("queue", DAY)),
           ("queue", "day"), True),
    Figure("asa_seconds", "mean", kpis.asa, _sql(QUEUE, "answer_seconds", "answered_calls", ("queue", DAY), VOICE),
           ("queue", "day"), True),
    Figure("abandonment_rate", "rate", kpis.abandonment,
           _sql(QUEUE, "abandoned_calls", "calls_entered_queue", ("queue", DAY), VOICE), ("queue", "day"), True),
    Figure("service_level", "rate", kpis.service_level,
           _sql(QUEUE, "answered_within_service_level", "calls_entered_queue", ("queue", DAY), VOICE),
           ("queue", "day"), True),
    Figure("aht_seconds", "mean", kpis.aht, _sql(QUEUE, "handle_seconds", "handled_contacts", ("channel", DAY)),
           ("channel", "day"), True),
    Figure("dead_air_rate", "rate", kpis.dead_air,
           _sql(QUEUE, "dead_air_calls", "answered_legs", ("queue", DAY), VOICE), ("queue", "day")),
    Figure("nps", "nps", kpis.nps, _sql("mart_satisfaction", "promoters - detractors", "nps_answers", ("channel", DAY)),
           ("channel", "day"), True),
    Figure("csat", "rate", kpis.csat, _sql("mart_satisfaction", "csat_satisfied", "csat_answers", ("channel", DAY)),
           ("channel", "day"), True),
    Figure("csat_mean_score", "mean", kpis.csat_mean,
           _sql("mart_satisfaction", "csat_score_sum", "csat_answers", ("channel", DAY)), ("channel", "day")),
    Figure("fcr_rate", "rate", kpis.fcr,
           _sql("mart_resolution", "fcr_engagements", "closed_engagements", ("intent", "first_channel", DAY)),
           ("intent", "first_channel", "day"), True),
    Figure("repeat_contact_rate", "rate", kpis.repeat_contact,
           _sql("mart_resolution", "repeat_interactions", "known_intent_interactions",
                ("intent", "first_channel", DAY)),
           ("intent", "first_channel", "day"), True),
    Figure("resolution_rate", "rate", kpis.resolution_rate,
           _sql("mart_resolution", "resolved_engagements", "resolution_known_engagements",
                ("intent", "first_channel", DAY)),
           ("intent", "first_channel", "day")),
    Figure("interactions", "count", kpis.interactions_volume,
           _sql("mart_resolution", "interactions", None, ("intent", "first_channel", DAY)),
           ("intent", "first_channel", "day")),
    Figure("volume_pattern_contacts", "count", kpis.volume_patterns,
           _sql("mart_volume_patterns", "contacts", None, ("intent", "weekday:iso_weekday"), "true"),
           ("intent", "weekday")),
    Figure("self_service_failure_rate", "rate", kpis.self_service_failure,
           _sql("mart_self_service_failure", "failed_self_service_uses", "self_service_uses",
                ("use_type", "intent", DAY)),
           ("use_type", "intent", "day"), True),
    Figure("self_service_failure_by_article", "rate", kpis.self_service_failure_by_article,
           _sql("mart_self_service_failure_by_article", "failed_reads", "article_reads", ("article_id",)),
           ("article_id",)),
    Figure("self_service_failure_by_bot_intent", "rate", kpis.self_service_failure_by_bot_intent,
           _sql("mart_self_service_failure_by_bot_intent", "failed_chats", "bot_only_chats", ("bot_intent",)),
           ("bot_intent",)),
    Figure("cross_channel_duplicate_rate", "rate", kpis.cross_channel_duplicates,
           _sql("mart_cross_channel_duplicates", "duplicated_submissions", "form_submissions", ("intent", DAY)),
           ("intent", "day")),
    Figure("ivr_containment_rate", "rate", kpis.ivr_containment,
           _sql("mart_ivr_containment", "contained_calls", "ivr_calls", ("intent", DAY)), ("intent", "day")),
    Figure("ivr_true_containment_rate", "rate", kpis.ivr_true_containment,
           _sql("mart_ivr_containment", "truly_contained_calls", "ivr_calls", ())),
    Figure("ivr_drop_off_rate", "rate", kpis.ivr_drop_off,
           _sql("mart_ivr_containment", "dropped_calls", "ivr_calls", ())),
    Figure("ivr_mean_menu_seconds", "mean", kpis.ivr_menu_seconds,
           _sql("mart_ivr_containment", "menu_seconds", "ivr_calls", ())),
    Figure("ivr_node_drop_off_rate", "rate", kpis.ivr_node_drop_off,
           _sql("mart_ivr_node_dwell", "drop_offs", "visits", ("node",)), ("node",)),
    Figure("ivr_node_mean_dwell_seconds", "mean", kpis.ivr_node_dwell,
           _sql("mart_ivr_node_dwell", "dwell_seconds", "visits", ("node",)), ("node",)),
    Figure("transfer_paths", "count", kpis.transfer_paths,
           _sql("mart_transfer_paths", "transfers", None, ("path:from_queue || ' > ' || to_queue",)), ("path",)),
    # Channel mix: the denominator is the intent's interactions summed over its first channels (the mart repeats
    # intent_interactions on every channel row, so that column cannot be re-summed).
    Figure("channel_mix_first_channel_share", "rate", kpis.channel_mix,
           "select 'intent', intent || '|channel=' || channel, num, "
           "sum(num) over (partition by intent) from (select intent, channel, "
           "sum(interactions_started_on_channel) as num from {marts}.mart_channel_mix "
           "where period_grain = 'day' group by 1, 2) where num > 0", ("intent",), has_overall=False),
    Figure("solution_effectiveness_rate", "rate", kpis.solution_effectiveness,
           _sql("mart_solution_effectiveness", "resolved_same_channel", "closed_engagements",
                ("medium:starting_medium",)), ("medium",)),
    Figure("agent_handled_contacts", "count", kpis.agent_handled,
           _sql("mart_agent_scorecard", "handled_contacts", None, ("agent_id",), "true"), ("agent_id",)),
    Figure("agent_aht_seconds", "mean", kpis.agent_aht,
           _sql("mart_agent_scorecard", "handle_seconds", "handled_contacts", ("agent_id",), "true"), ("agent_id",)),
    Figure("agent_transfer_out_rate", "rate", kpis.agent_transfer_out,
           _sql("mart_agent_scorecard", "transferred_calls", "handled_calls", ("agent_id",), "true"), ("agent_id",)),
    Figure("agent_csat_rate", "rate", kpis.agent_csat,
           _sql("mart_agent_scorecard", "csat_satisfied", "csat_answers", ("agent_id",), "true"), ("agent_id",)),
    Figure("agent_fcr_rate", "rate", kpis.agent_fcr,
           _sql("mart_agent_scorecard", "fcr_engagements", "closed_engagements",
                ("first_agent_id:agent_id", "agent_week:agent_id || '/' || cast(week_start as varchar)"), "true"),
           ("first_agent_id", "agent_week")),
    Figure("agent_negative_sentiment_share", "rate", kpis.agent_negative_sentiment,
           _sql("mart_agent_scorecard", "negative_interactions", "scored_interactions", ("last_agent_id:agent_id",),
                "true"), ("last_agent_id",)),
    Figure("customer_segments", "count", kpis.customer_segments,
           "select 'customers_with_contacts', null, max(customers_with_contacts), null "
           "from {marts}.mart_customer_segments"
           " union all select 'segment', segment, sum(customers), null from {marts}.mart_customer_segments group by 2",
           ("customers_with_contacts", "segment"), has_overall=False),
    Figure("calls_outside_calling_hours", "count", kpis.calling_hours,
           "select 'all', null, count(*), null from {marts}.mart_compliance_calling_hours union all "
           "select 'status', calling_hours_status, count(*), null "
           "from {marts}.mart_compliance_calling_hours group by 2",
           ("status",)),
    Figure("contact_frequency", "count", kpis.contact_frequency,
           "select 'customers_over_limit', null, count(distinct customer_key), null "
           "from {marts}.mart_compliance_contact_frequency union all "
           "select 'attempts_in_over_limit_windows', null, count(*), null "
           "from {marts}.mart_compliance_contact_frequency",
           ("customers_over_limit", "attempts_in_over_limit_windows"), has_overall=False),
    Figure("negative_interaction_share", "rate", kpis.negative_interaction_share,
           _sql("mart_sentiment", "negative_interactions", "scored_interactions", ("first_channel", "intent", DAY)),
           ("first_channel", "intent", "day")),
    Figure("positive_interaction_share", "rate", kpis.positive_interaction_share,
           _sql("mart_sentiment", "positive_interactions", "scored_interactions", ("first_channel",)),
           ("first_channel",)),
    Figure("negative_text_share", "rate", kpis.negative_text_share,
           _sql("mart_message_sentiment", "negative_texts", "scored_texts",
                ("text_kind:source_type || '/' || author_role", "channel", DAY)), ("text_kind", "channel", "day")),
    Figure("positive_text_share", "rate", kpis.positive_text_share,
           _sql("mart_message_sentiment", "positive_texts", "scored_texts",
                ("text_kind:source_type || '/' || author_role",)), ("text_kind",)),
    # The help desk's own KPIs (docs/kpis.md "Tickets"): creation-dated and solve-dated counts, per group, assignee,
    # intent and channel, and the backlog at each day's end (a snapshot per day, group and status).
    *[
        Figure(f"ticket_{name}", kind, reference, _sql("mart_ticket_daily", num, den, (*TICKET_DIMS, DAY)),
               ("group", "agent", "intent", "channel", "day"), headline)
        for name, kind, reference, num, den, headline in [
            ("tickets_created", "count", ticket_kpis.tickets_created, "tickets_created", None, False),
            ("first_reply_business_minutes", "mean", ticket_kpis.first_reply_business,
             "first_reply_business_minutes_sum", "first_replied_tickets", True),
            ("first_reply_calendar_minutes", "mean", ticket_kpis.first_reply_calendar,
             "first_reply_calendar_minutes_sum", "first_replied_tickets", False),
            ("sla_attainment_rate", "rate", ticket_kpis.sla_attainment, "sla_met_tickets", "sla_judged_tickets",
             True),
            ("solved_tickets", "count", ticket_kpis.tickets_solved, "solved_tickets", None, False),
            ("resolution_business_minutes", "mean", ticket_kpis.resolution_business,
             "resolution_business_minutes_sum", "solved_tickets", False),
            ("resolution_calendar_minutes", "mean", ticket_kpis.resolution_calendar,
             "resolution_calendar_minutes_sum", "solved_tickets", False),
            ("requester_wait_business_minutes", "mean", ticket_kpis.requester_wait_business,
             "requester_wait_business_minutes_sum", "solved_tickets_with_history", False),
            ("requester_wait_calendar_minutes", "mean", ticket_kpis.requester_wait_calendar,
             "requester_wait_calendar_minutes_sum", "solved_tickets_with_history", False),
            ("agent_replies_per_ticket", "mean", ticket_kpis.agent_replies_per_ticket, "solved_agent_replies",
             "solved_tickets_with_history", False),
            ("one_touch_resolution_rate", "rate", ticket_kpis.one_touch, "one_touch_tickets",
             "solved_tickets_with_history", False),
            ("reopen_rate", "rate", ticket_kpis.reopen_rate, "reopened_tickets", "solved_tickets_with_history",
             False),
        ]
    ],
    Figure("ticket_backlog", "count", ticket_kpis.backlog,
           _sql("mart_ticket_backlog", "open_tickets", None,
                ("day:cast(activity_date as varchar)", "group:ticket_group", "status"), "true"),
           ("day", "group", "status")),
    # Calls and business hours (docs/kpis.md): queue entries outside the queue's opening hours, SL and ASA inside.
    Figure("outside_hours_share", "rate", queue_hours.outside_hours_share,
           _sql("mart_queue_business_hours", "calls_outside_hours", "calls_entered_queue", ("queue", DAY)),
           ("queue", "day")),
    Figure("service_level_in_hours", "rate", queue_hours.service_level_in_hours,
           _sql("mart_queue_business_hours", "answered_within_service_level_in_hours", "calls_in_hours",
                ("queue", DAY)), ("queue", "day")),
    Figure("asa_in_hours_seconds", "mean", queue_hours.asa_in_hours,
           _sql("mart_queue_business_hours", "answer_seconds_in_hours", "answered_in_hours", ("queue", DAY)),
           ("queue", "day")),
    # The daily cockpit re-assembles the headline KPIs from the marts above: the same figures, overall and per day.
    *[
        Figure(f"cockpit_daily_{name}", kind, reference,
               _sql("mart_cockpit_daily", num, den, ("day:cast(activity_date as varchar)",), "true"), ("day",))
        for name, kind, reference, num, den in [
            ("transfer_rate", "rate", kpis.transfer_rate, "transferred_calls", "transfer_answered_calls"),
            ("asa_seconds", "mean", kpis.asa, "answer_seconds", "answered_calls"),
            ("abandonment_rate", "rate", kpis.abandonment, "abandoned_calls", "calls_entered_queue"),
            ("service_level", "rate", kpis.service_level, "answered_within_service_level", "calls_entered_queue"),
            ("aht_seconds", "mean", kpis.aht, "handle_seconds", "handled_contacts"),
            ("nps", "nps", kpis.nps, "promoters - detractors", "nps_answers"),
            ("csat", "rate", kpis.csat, "csat_satisfied", "csat_answers"),
            ("fcr_rate", "rate", kpis.fcr, "fcr_engagements", "closed_engagements"),
            ("repeat_contact_rate", "rate", kpis.repeat_contact, "repeat_interactions", "known_intent_interactions"),
            ("self_service_failure_rate", "rate", kpis.self_service_failure, "failed_self_service_uses",
             "self_service_uses"),
        ]
    ],
]  # fmt: skip


# Marts with period roll-ups are compared on their week and month rows as well.
FIGURES = [
    Figure(f.name, f.kind, f.reference, f.mart_sql, (*f.dimensions, "week", "month"), f.headline, f.has_overall)
    if "period_grain = 'week'" in f.mart_sql
    else f
    for f in FIGURES
]


def marts_schema(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "select table_schema from information_schema.tables where table_name = 'mart_transfers'"
    ).fetchall()
    if not rows:
        raise LookupError("no mart_transfers table: is the warehouse built?")
    return rows[0][0]


def _slice_name(dimension: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return dimension
    return f"{dimension}={value}"


def mart_figures(db: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        schema = marts_schema(con)
        out = {}
        for figure in FIGURES:
            frame = con.execute(figure.mart_sql.format(marts=schema)).df()
            frame.columns = ["dimension", "value", "num", "den"]
            frame["slice"] = [_slice_name(d, v) for d, v in frame[["dimension", "value"]].itertuples(False)]
            out[figure.name] = frame[["slice", "num", "den"]]
        return out


def _value(kind: str, num: float | None, den: float | None) -> float | None:
    if num is None or (isinstance(num, float) and math.isnan(num)):
        num = 0
    if kind == "count":
        return float(num)
    if den is None or (isinstance(den, float) and math.isnan(den)) or den == 0:
        return None
    return float(num) / float(den) * (100 if kind == "nps" else 1)


def agrees(kind: str, mart: float | None, reference: float | None) -> bool:
    if mart is None or reference is None:
        return mart is None and reference is None
    if kind == "count":
        return mart == reference
    if kind == "nps":
        return abs(mart - reference) <= NPS_TOLERANCE
    return abs(mart - reference) <= RATE_TOLERANCE * max(abs(mart), abs(reference)) + 1e-12


def relative_difference(mart: float | None, reference: float | None) -> float | None:
    if mart is None or reference is None:
        return None
    if mart == reference:
        return 0.0
    return (mart - reference) / max(abs(mart), abs(reference))


def _dimension_of(slice_name: str) -> str:
    return "all" if slice_name == "all" else slice_name.split("=", 1)[0]


def _counts(frame: pd.DataFrame, slice_name: str) -> tuple[object, object]:
    if slice_name not in frame.index:
        return None, None
    return frame.at[slice_name, "num"], frame.at[slice_name, "den"]


def compare(landing: Path, db: Path, hierarchy: Hierarchy | None = None) -> pd.DataFrame:
    """Every figure and slice: mart and reference values (num, den, value), agreement, relative difference.

    A slice present on one side only compares with "no data" (value NULL) on the other; it agrees when the present
    side counts nothing (a mart row with 0 repeat contacts on `unknown` is the same as no row)."""
    h = hierarchy or build(read_exports(landing))
    marts = mart_figures(db)
    rows = []
    for figure in FIGURES:
        ref, mart = figure.reference(h), marts[figure.name]
        # only the slice groups the mart has (a reference function may slice further than this mart does)
        ref = ref[ref["slice"].map(_dimension_of).isin(figure.groups)].set_index("slice")
        mart = mart[mart["slice"].map(_dimension_of).isin(figure.groups)].set_index("slice")
        for slice_name in sorted(set(ref.index) | set(mart.index), key=lambda s: (s != "all", s)):
            m_num, m_den = _counts(mart, slice_name)
            r_num, r_den = _counts(ref, slice_name)
            m_val, r_val = _value(figure.kind, m_num, m_den), _value(figure.kind, r_num, r_den)
            ok = agrees(figure.kind, m_val, r_val)
            if not ok and (m_num is None or r_num is None):
                present = m_num if r_num is None else r_num
                ok = present is not None and float(present) == 0
            rows.append(
                {
                    "figure": figure.name,
                    "dimension": _dimension_of(slice_name),
                    "slice": slice_name,
                    "kind": figure.kind,
                    "headline": figure.headline,
                    "mart_num": m_num,
                    "mart_den": m_den,
                    "mart": m_val,
                    "ref_num": r_num,
                    "ref_den": r_den,
                    "reference": r_val,
                    "rel_diff": relative_difference(m_val, r_val),
                    "agrees": ok,
                }
            )
    return pd.DataFrame(rows)


def format_table(frame: pd.DataFrame, only_disagreements: bool = False) -> str:
    shown = frame[~frame["agrees"]] if only_disagreements else frame

    def fmt(value: object, den: object = None) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "NULL"
        return f"{value:.4g}"

    lines = [f"{'figure':38} {'slice':44} {'mart':>12} {'reference':>12} {'rel diff':>9}  verdict"]
    for row in shown.itertuples(index=False):
        diff = "" if row.rel_diff is None or math.isnan(row.rel_diff) else f"{row.rel_diff:+.1%}"
        verdict = "agree" if row.agrees else "DISAGREE"
        lines.append(
            f"{row.figure:38} {row.slice[:44]:44} {fmt(row.mart):>12} {fmt(row.reference):>12} {diff:>9}  {verdict}"
        )
    return "\n".join(lines)
