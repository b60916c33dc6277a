"""The cockpit marts on a generated month find every planted truth."""

from __future__ import annotations


def test_the_failing_faq_article_has_the_highest_self_service_failure(pipeline_run) -> None:
    ranked = pipeline_run.query(
        """select article_id, self_service_failure_rate, article_reads
           from marts.mart_self_service_failure_by_article
           where period_grain = 'all' and article_reads >= 10
           order by self_service_failure_rate desc"""
    )
    assert ranked[0][0] == pipeline_run.truths["failing_faq_article"], ranked[:3]
    assert ranked[0][1] >= 2 * ranked[1][1], ranked[:3]


def test_the_weak_agent_has_the_lowest_fcr(pipeline_run) -> None:
    rates = pipeline_run.query(
        """select agent_id, sum(fcr_engagements) * 1.0 / sum(closed_engagements) as fcr
           from marts.mart_agent_scorecard
           group by agent_id having sum(closed_engagements) >= 10
           order by fcr"""
    )
    assert rates[0][0] == pipeline_run.truths["weak_agent"], rates[:3]
    # Coaching flags are per agent-week. Of the month's 4 weeks the last cannot be judged (its engagements are
    # still inside their 7-day window at the data's end: FCR NULL, no flag); in the other 3 the weak agent closes
    # 10-20 engagements. At his observed FCR (~0.38 against the team's ~0.65) one week clears the flag's rule (gap
    # 0.15, 95 % Wilson bound) with a probability of about 0.43 (10 engagements) to 0.67 (20): the former "flagged
    # in at least 2 weeks" held here (3 of 3) but would fail on about 45 % of generated months with a correct model;
    # at least 1 of 3 fails on about 10 %. The month-long flag is the coaching plan's (test_routing.py); the weekly
    # counts behind each flag are compared with the independent reference (agent_fcr_rate per agent_week).
    weeks = pipeline_run.query(
        "select week_start, closed_engagements, is_low_fcr from marts.mart_agent_scorecard where agent_id = ?",
        [pipeline_run.truths["weak_agent"]],
    )
    flagged = {week for week, _, low in weeks if low}
    judged = {week for week, closed, _ in weeks if closed >= 5}  # coaching_min_sample
    assert flagged and flagged <= judged, weeks


def test_fcr_is_computed_over_closed_engagements_only(pipeline_run) -> None:
    """The mart's FCR equals the hierarchy's count of first-contact resolutions over closed, FCR-eligible
    engagements, and engagements still inside their window at the data's end exist and are left out."""
    mart = pipeline_run.query(
        "select sum(fcr_engagements), sum(closed_engagements), sum(engagements) from marts.mart_resolution "
        "where period_grain = 'month'"
    )[0]
    facts = pipeline_run.query(
        "select count(*) filter (where is_first_contact_resolved), "
        "count(*) filter (where is_first_contact_resolved is not null), "
        "count(*) from marts.fct_engagements"
    )[0]
    assert mart == facts
    assert facts[1] < facts[2]


def test_the_slow_queue_has_the_highest_asa(pipeline_run) -> None:
    ranked = pipeline_run.query(
        """select queue, sum(answer_seconds) * 1.0 / sum(answered_calls) as asa
           from marts.mart_queue_performance
           where period_grain = 'month' and channel = 'voice' and answered_calls > 0
           group by queue order by asa desc"""
    )
    assert ranked[0][0] == pipeline_run.truths["slow_queue"], ranked
    assert ranked[0][1] > 3 * ranked[1][1], ranked


def test_the_over_contacted_customers_and_only_they_are_flagged(pipeline_run) -> None:
    flagged = {
        r for (r,) in pipeline_run.query("select distinct customer_ref from marts.mart_compliance_contact_frequency")
    }
    assert flagged == set(pipeline_run.truths["over_contacted_customers"])


def test_calls_outside_calling_hours_are_exactly_the_planted_ones(pipeline_run) -> None:
    flagged = {
        c
        for (c,) in pipeline_run.query(
            "select call_id from marts.mart_compliance_calling_hours where calling_hours_status = 'outside_hours'"
        )
    }
    assert flagged == set(pipeline_run.truths["outbound_outside_calling_hours"])


def test_the_monday_spike_intent_ranks_first_in_its_monday_ratio(pipeline_run) -> None:
    top = pipeline_run.query(
        """select intent, hour_of_day, weekday_hour_ratio from marts.mart_volume_patterns
           where weekday_name = 'Monday' and ratio_rank = 1 and has_enough_volume
           order by weekday_hour_ratio desc limit 1"""
    )
    assert top and top[0][0] == pipeline_run.truths["monday_spike_intent"], top
    assert top[0][2] >= 2.0, top


def test_the_nightly_job_publishes_and_writes_the_report(pipeline_run) -> None:
    serving = pipeline_run.serving
    assert serving.exists()
    page = serving.parent / "report" / "index.html"
    assert page.exists() and page.stat().st_size > 1_000_000
    assert "Net Promoter Score" in page.read_text() or "NPS" in page.read_text()


def test_every_expectation_suite_passes_on_the_generated_month(pipeline_run) -> None:
    """The suites hold only what dbt tests cannot say (expectations/README.md); each one that exists passes."""
    from contact_warehouse.quality.frames import read_model_frame
    from contact_warehouse.quality.suites import read_suites
    from contact_warehouse.quality.validation import validate_frame

    failed = {}
    suites = [s for s in read_suites() if s.model.startswith(("mart_", "fct_"))]
    assert suites
    for suite in suites:
        outcome = validate_frame(
            suite, read_model_frame(pipeline_run.db, "marts", suite.model, suite.derived_columns, suite.columns)
        )
        if not outcome.passed:
            failed[suite.model] = outcome.summary()
    assert failed == {}


def test_every_cockpit_rate_is_held_to_zero_one_by_a_dbt_test() -> None:
    """A rate above one fails the build: since the GE/dbt split (expectations/README.md) the range of every
    `*_rate` column of the cockpit marts is a dbt accepted_range test with bounds 0 and 1."""
    import json

    from contact_warehouse.settings import DBT_PROJECT_DIR

    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    cockpit = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and "/cockpit/" in n["original_file_path"]
    }
    ranged = {
        (t["attached_node"].split(".")[-1], t["column_name"])
        for t in manifest["nodes"].values()
        if t["resource_type"] == "test"
        and t.get("attached_node")
        and t.get("test_metadata", {}).get("name") == "accepted_range"
        and t["test_metadata"]["kwargs"].get("arguments", t["test_metadata"]["kwargs"]).get("min_value") == 0
        and t["test_metadata"]["kwargs"].get("arguments", t["test_metadata"]["kwargs"]).get("max_value") == 1
    }
    rates = {(m, c) for m, node in cockpit.items() for c in node["columns"] if c.endswith("_rate")}
    assert ("mart_resolution", "fcr_rate") in rates
    assert sorted(rates - ranged) == []
