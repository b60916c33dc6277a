"""Regression tests for the KPI findings of the trust review (issue 13): each failed on the code before the fix.

The KPI logic itself is pinned by hand-computed dbt unit tests (transfers, self-service failure, repeat contacts,
cross-channel duplicates, identity, FCR without resolution data, coaching minimum, volume patterns); these tests
check the same rules on a whole generated month, against counts taken from the raw export files.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import duckdb
from conftest import FIXTURES, load_landing


def _chat_ratings_in_exports(landing: Path) -> int:
    """Conversations with a 1-5 rating, counted straight from the chat export files (re-deliveries: last wins)."""
    ratings: dict[str, int | None] = {}
    for path in sorted((landing / "chat_conversations").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                conversation = json.loads(line)
            except json.JSONDecodeError:
                continue  # a planted broken line: quarantined by the loader
            if isinstance(conversation, dict) and "id" in conversation:
                ratings[conversation["id"]] = conversation.get("rating")
    return sum(1 for rating in ratings.values() if rating is not None and 1 <= rating <= 5)


def test_chat_ratings_count_as_csat_answers(pipeline_run) -> None:
    """Finding 11: the chat export's own 1-5 rating is a CSAT answer (DOMAIN's CSAT), not ignored."""
    expected = _chat_ratings_in_exports(pipeline_run.landing)
    assert expected > 0
    in_facts = pipeline_run.query(
        "select count(*) from marts.fct_survey_answers where answer_source = 'chat_rating' and is_valid_score"
    )[0][0]
    assert in_facts == expected
    facts, mart = pipeline_run.query(
        """select
               (select count(*) from marts.fct_survey_answers where survey_type = 'csat' and is_valid_score),
               (select sum(csat_answers) from marts.mart_satisfaction where period_grain = 'month')"""
    )[0]
    assert mart == facts


def test_records_known_only_by_a_switchboard_number_stay_strangers(pipeline_run) -> None:
    """Finding 5: two records whose only identifier is the same blocked number are two customers, not one."""
    shared = pipeline_run.query(
        """select customer_key, count(distinct contact_id) as contacts
           from marts.fct_transactions
           where is_customer_ambiguous
           group by customer_key
           having count(distinct contact_id) > 1"""
    )
    ambiguous = pipeline_run.query("select count(*) from marts.fct_transactions where is_customer_ambiguous")[0][0]
    assert ambiguous > 0, "the generated month should have switchboard callers"
    assert shared == []


def test_sentiment_sums_are_exact_decimals(pipeline_run) -> None:
    """Finding 6: a float sum in undefined order moved mart_sentiment by 0.0001 between identical runs; the sums
    are now exact decimals, which any engine adds up the same in any order."""
    types = dict(
        pipeline_run.query(
            """select table_name, data_type from information_schema.columns
               where table_schema = 'marts' and column_name = 'compound_sum'"""
        )
    )
    # mart_sentiment sums unrounded means at 8 decimals (DECISIONS.md "Sentiment means unrounded").
    assert types == {"mart_sentiment": "DECIMAL(18,8)", "mart_message_sentiment": "DECIMAL(18,4)"}


def test_company_messages_never_make_a_self_service_use_fail(pipeline_run) -> None:
    """Finding 2: a failed use's first assisted follow-up is always a contact the customer started, after the use."""
    bad = pipeline_run.query(
        """select count(*)
           from intermediate.int_self_service_uses as uses
           where uses.is_failed and not exists (
               select 1 from marts.fct_transactions as t
               where t.customer_key = uses.customer_key and t.effective_intent = uses.intent
                 and t.is_assisted and t.is_customer_initiated
                 and t.started_at = uses.first_assisted_at and t.started_at >= uses.ended_at
           )"""
    )[0][0]
    assert bad == 0
    automated_texts = pipeline_run.query(
        "select count(*) from marts.fct_transactions where initiated_by = 'automated'"
    )[0][0]
    assert automated_texts > 0, "the generator sends one-time codes and reminders"


def test_at_risk_is_what_a_manager_would_act_on(pipeline_run) -> None:
    """Finding 12: a FAQ read without an up-vote is not an open problem; at risk is a minority of customers and
    each one has a detractor answer or an unresolved assisted latest problem."""
    share = pipeline_run.query("select share_of_customers from marts.mart_customer_segments where segment = 'at_risk'")[
        0
    ][0]
    assert share < 0.25, share
    faq_only_at_risk = pipeline_run.query(
        """select count(*) from marts.fct_customer_journeys
           where is_at_risk and channels_used = 'faq' and coalesce(latest_nps_category, '') <> 'detractor'"""
    )[0][0]
    assert faq_only_at_risk == 0


def _wilson(successes: int, trials: int, z: float, upper: bool) -> float:
    """The Wilson score interval bound, written from its textbook formula."""
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre + spread if upper else centre - spread) / (1 + z * z / trials)


def test_coaching_flags_need_a_sample_that_tells_the_agent_from_the_team(pipeline_run) -> None:
    """Finding 12: each coaching flag, recomputed in Python from the scorecard's counts: a gap of more than
    coaching_rate_gap (0.15), at least coaching_min_sample (5) contacts, and a 95 % Wilson interval that leaves the
    team's rate out. A flag on one survey answer is impossible; the planted weak agent is still flagged."""
    rows = pipeline_run.query(
        """select agent_id, fcr_engagements, closed_engagements, team_fcr_rate, is_low_fcr,
                  csat_satisfied, csat_answers, team_csat_rate, is_low_csat,
                  transferred_calls, handled_inbound_calls, team_transfer_out_rate, is_high_transfer_out,
                  negative_interactions, scored_interactions, team_negative_sentiment_share, is_high_negative_sentiment
           from marts.mart_agent_scorecard"""
    )
    gap, minimum, z = 0.15, 5, 1.96

    def low(successes: int, n: int, team: float | None) -> bool:
        return bool(
            team is not None
            and n >= minimum
            and successes / n < team - gap
            and _wilson(successes, n, z, upper=True) < team
        )

    def high(successes: int, n: int, team: float | None) -> bool:
        return bool(
            team is not None
            and n >= minimum
            and successes / n > team + gap
            and _wilson(successes, n, z, upper=False) > team
        )

    for row in rows:
        agent = row[0]
        assert row[4] == low(*row[1:4]), (agent, "fcr", row[1:5])
        assert row[8] == low(*row[5:8]), (agent, "csat", row[5:9])
        assert row[12] == high(*row[9:12]), (agent, "transfer", row[9:13])
        assert row[16] == high(*row[13:16]), (agent, "sentiment", row[13:17])
    flagged = sum(1 for row in rows if row[4] or row[8] or row[12] or row[16])
    assert flagged < 0.25 * len(rows), (flagged, len(rows))


def test_transfer_rate_is_over_answered_inbound_calls(pipeline_run) -> None:
    """Finding 1: outbound calls (never transferred) are not in the transfer-rate denominator."""
    mart = pipeline_run.query(
        "select sum(transfer_answered_calls), sum(transferred_calls) from marts.mart_transfers"
        " where period_grain = 'month'"
    )[0]
    inbound = pipeline_run.query(
        """select count(distinct root_call_id),
                  count(distinct case when transfers_out > 0 then root_call_id end)
           from intermediate.int_call_legs_chained
           where root_direction = 'inbound' and answered_at is not null"""
    )[0]
    outbound_answered = pipeline_run.query(
        """select count(*) from intermediate.int_call_legs_chained
           where direction = 'outbound' and parent_call_id is null and answered_at is not null"""
    )[0][0]
    assert outbound_answered > 0
    assert mart == inbound


def _without_resolution(line: str) -> str:
    """A chat export line with its `resolved` emptied; a malformed line stays as it is (and is quarantined)."""
    try:
        conversation = json.loads(line)
    except json.JSONDecodeError:
        return line
    return json.dumps({**conversation, "resolved": None}) if isinstance(conversation, dict) else line


def test_a_call_log_without_resolution_shows_no_fcr_instead_of_zero(tmp_path: Path, warehouse: Path, dbt) -> None:
    """Finding 10: when the exports never say whether a contact was resolved, FCR and the resolution rate are
    NULL ("no data"), not 0 %."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "exports", landing)
    for path in (landing / "calls").glob("*.csv"):
        header, *rows = list(csv.reader(path.open(newline="")))
        column = header.index("resolved")
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row in rows:  # the fixture's malformed rows keep their shape (and their quarantine)
                writer.writerow([*row[:column], "", *row[column + 1 :]] if len(row) == len(header) else row)
    for path in (landing / "chat_conversations").glob("*.jsonl"):
        path.write_text("".join(_without_resolution(line) + "\n" for line in path.read_text().splitlines()))
    load_landing(warehouse, landing)
    dbt(["build", "--exclude", "resource_type:unit_test"], warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        engagements, judged = con.execute(
            """select count(*), count(is_first_contact_resolved) from marts.fct_engagements
               where channel_path not like '%faq%' and channel_path not like '%ivr%'"""
        ).fetchone()
        rates = con.execute(
            """select count(*), count(fcr_rate), count(resolution_rate) from marts.mart_resolution
               where first_channel in ('voice', 'chat')"""
        ).fetchone()
    assert engagements > 0
    assert judged == 0
    assert rates[0] > 0 and rates[1:] == (0, 0), rates
