"""Routing recommendations and the coaching plan on the generated month (marts/routing), and their CSV export."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import yaml

from contact_warehouse.routing import CUSTOMER_ROUTING_CSV, ROUTING_CSV, export_routing_csv
from contact_warehouse.settings import DBT_PROJECT_DIR

VARS = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def test_planted_strong_agent_is_recommended_first_for_its_intent(pipeline_run) -> None:
    truths = pipeline_run.truths
    ranked = pipeline_run.query(
        "select agent_id from marts.mart_routing_recommendations "
        "where segment = 'all' and intent = ? and agent_rank is not null order by agent_rank",
        [truths["strong_agent_intent"]],
    )
    assert len(ranked) >= 3
    assert ranked[0][0] == truths["strong_agent"]
    # The weak agent is never recommended for anything.
    assert pipeline_run.query(
        "select count(*) from marts.mart_routing_recommendations where agent_id = ? and is_recommended",
        [truths["weak_agent"]],
    ) == [(0,)]


def test_no_agent_under_the_minimum_is_ranked_or_recommended(pipeline_run) -> None:
    minimum = VARS["routing_min_contacts"]
    under = pipeline_run.query(
        "select count(*), count(agent_rank), count(*) filter (where is_recommended) "
        "from marts.mart_routing_recommendations where resolution_known_contacts < ?",
        [minimum],
    )[0]
    assert under[0] > 0  # the data has such agents: the rule is exercised
    assert under[1:] == (0, 0)
    # A perfect record on a few contacts ranks below a good record on many: the lower bound, not the rate.
    lucky = pipeline_run.query(
        "select count(*) from marts.mart_routing_recommendations "
        "where resolution_rate = 1 and resolution_known_contacts < ? and is_recommended",
        [minimum],
    )
    assert lucky == [(0,)]
    per_cell = pipeline_run.query(
        "select max(n) from (select count(*) as n from marts.mart_routing_recommendations "
        "where is_recommended group by segment, intent)"
    )[0][0]
    assert per_cell <= VARS["routing_top_agents"]


def test_customer_routing_names_segment_skill_and_the_first_ranked_agent(pipeline_run) -> None:
    segments = dict(pipeline_run.query("select segment, count(*) from marts.mart_customer_routing group by 1"))
    assert set(segments) == {"at_risk", "frequent_contacter", "high_value"}
    mismatched = pipeline_run.query(
        "select count(*) from marts.mart_customer_routing as c "
        "left join marts.mart_routing_recommendations as r on r.segment = c.recommendation_basis "
        "and r.intent = c.latest_intent and r.agent_id = c.recommended_agent_id and r.agent_rank = 1 "
        "where c.recommended_agent_id is not null and r.agent_id is null"
    )
    assert mismatched == [(0,)]
    assert pipeline_run.query(
        "select count(*) from marts.mart_customer_routing where latest_intent is not null and recommended_skill is null"
    ) == [(0,)]


def test_coaching_plan_flags_the_weak_agent_with_enough_contacts(pipeline_run) -> None:
    weak = pipeline_run.truths["weak_agent"]
    flagged = pipeline_run.query(
        "select intent, closed_engagements, fcr_rate, peer_fcr_rate from marts.mart_coaching_plan "
        "where agent_id = ? and is_low_fcr",
        [weak],
    )
    assert flagged, "the weak agent resolves 30 % against 76 %: FCR must be flagged on an intent"
    minimum = VARS["coaching_min_sample"]
    assert all(n >= minimum and rate < peer - VARS["coaching_rate_gap"] for _, n, rate, peer in flagged)
    thin = pipeline_run.query(
        "select count(*) from marts.mart_coaching_plan where (is_low_fcr and closed_engagements < ?) "
        "or (is_low_csat and csat_answers < ?) or (is_high_aht and handled_contacts < ?)",
        [minimum, minimum, minimum],
    )
    assert thin == [(0,)]
    # The strong agent is nowhere behind on its own intent.
    truths = pipeline_run.truths
    assert pipeline_run.query(
        "select count(*) from marts.mart_coaching_plan where agent_id = ? and intent = ? and is_low_fcr",
        [truths["strong_agent"], truths["strong_agent_intent"]],
    ) == [(0,)]


def test_routing_csv_beside_the_serving_file(pipeline_run, tmp_path: Path) -> None:
    assert pipeline_run.serving.is_file()
    # A copy: the CSVs are written beside the serving file, and the session's run folder is read-only for tests.
    serving = tmp_path / "serving.duckdb"
    shutil.copy(pipeline_run.serving, serving)
    written = export_routing_csv(serving)
    assert [p.name for p in written] == [ROUTING_CSV, CUSTOMER_ROUTING_CSV]
    assert all(p.parent == serving.parent for p in written)
    with open(serving.with_name(ROUTING_CSV), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    recommended = pipeline_run.query("select count(*) from marts.mart_routing_recommendations where is_recommended")
    assert len(rows) == recommended[0][0]
    assert list(rows[0])[:4] == ["segment", "intent", "agent_id", "agent_rank"]
    first = {(r["segment"], r["intent"]): r["agent_id"] for r in rows if r["agent_rank"] == "1"}
    truths = pipeline_run.truths
    assert first[("all", truths["strong_agent_intent"])] == truths["strong_agent"]
