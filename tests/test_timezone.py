"""The bundled sample built with a reporting zone other than UTC: every model builds and every test passes, and
days and hours are local to that zone, counted here independently with Python's zoneinfo (DST included: the
sample ends on 2026-11-01, the day US clocks go back)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from conftest import load_landing

from contact_warehouse.settings import DBT_PROJECT_DIR, DEFAULT_LANDING_DIR, dbt_executable

ZONE = "America/New_York"
NEW_YORK = ZoneInfo(ZONE)
# US daylight-saving time ended at 06:00 UTC on this day: 01:00-01:59 local happened twice.
FALL_BACK_UTC = (datetime(2026, 11, 1, 5), datetime(2026, 11, 1, 7))


def local(utc_naive: datetime) -> datetime:
    """A naive UTC timestamp (as the warehouse stores it) on New York's wall clock."""
    return utc_naive.replace(tzinfo=UTC).astimezone(NEW_YORK)


def test_a_new_york_build_passes_with_local_days_and_hours(warehouse: Path, tmp_path: Path, dbt) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(DEFAULT_LANDING_DIR, landing)
    # The sample is quiet at night: two FAQ readers at 01:30 New York time, once before the clocks went back
    # (EDT, 05:30 UTC) and once after (EST, 06:30 UTC), so both real hours of the repeated local hour have contacts.
    (landing / "faq_views" / "faq_views_2026-11-01_night.csv").write_text(
        "view_id,article_id,visitor_id,customer_ref,viewed_at,seconds_on_page,vote,search_query\n"
        "FVtz-edt,KB-1001,v-tz-edt,,2026-11-01T01:30:00-04:00,60,,\n"
        "FVtz-est,KB-1001,v-tz-est,,2026-11-01T01:30:00-05:00,60,,\n"
    )
    # Two billing calls queued at 01:10 New York time, in EDT (05:10 UTC) and in EST (06:10 UTC): two intervals.
    (landing / "calls" / "calls_2026-11-01_night.csv").write_text(
        "call_id,parent_call_id,direction,from_number,to_number,customer_ref,queue,agent_id,started_at,queued_at,"
        "answered_at,ended_at,hold_seconds,silence_seconds,wrap_seconds,status,disposition,resolved\n"
        "CAtz-edt,,inbound,+13125550101,+18882735500,,billing,A001,2026-11-01T01:09:30-04:00,2026-11-01T01:10:00-04:00,"
        "2026-11-01T01:10:10-04:00,2026-11-01T01:14:00-04:00,0,0,30,completed,,\n"
        "CAtz-est,,inbound,+13125550102,+18882735500,,billing,A001,2026-11-01T01:09:30-05:00,2026-11-01T01:10:00-05:00,"
        "2026-11-01T01:10:40-05:00,2026-11-01T01:14:00-05:00,0,0,30,completed,,\n"
    )
    load_landing(warehouse, landing)
    # Unit tests included: the nightly run builds them too, and they must not assume UTC.
    dbt(["build", "--vars", f"{{reporting_timezone: {ZONE}}}"], warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        interactions = con.execute(
            "select coalesce(intent, 'unknown'), started_at from marts.fct_interactions"
        ).fetchall()
        patterns = con.execute(
            "select intent, iso_weekday, hour_of_day, contacts from marts.mart_volume_patterns"
        ).fetchall()
        queued = [t for (t,) in con.execute("select queued_at from staging.stg_phone_system__calls").fetchall()]
        texts = con.execute("select thread_id, sent_at from staging.stg_phone_system__sms_messages").fetchall()
        thread_days = con.execute(
            "select transaction_id from marts.fct_transactions where transaction_type = 'sms_thread_day'"
        ).fetchall()
        queued_legs = con.execute(
            "select queued_at, queue from staging.stg_phone_system__calls where queued_at is not null"
        ).fetchall()
        staffing = con.execute(
            """select interval_start_utc, interval_start_local, queue, sum(offered_contacts)
               from marts.mart_staffing_intervals where interval_minutes = 30 group by all"""
        ).fetchall()
        forecast_starts = con.execute(
            "select interval_start_local, interval_start_utc from marts.mart_staffing_forecast"
        ).fetchall()
        queue_days = con.execute(
            """select period_start, sum(calls_entered_queue) from marts.mart_queue_performance
               where period_grain = 'day' and channel = 'voice' group by period_start"""
        ).fetchall()

    # Volume patterns: contacts per intent, local ISO weekday and local hour.
    expected = Counter((intent, local(t).isoweekday(), local(t).hour) for intent, t in interactions)
    assert {(i, d, h): n for i, d, h, n in patterns} == dict(expected)
    # New York's hours are not UTC's: the check can tell them apart.
    in_utc = Counter((intent, t.isoweekday(), t.hour) for intent, t in interactions)
    assert in_utc != expected
    # Both real hours of the fall-back night (01h EDT, then 01h EST) have contacts: both go to Sunday 01h.
    assert {t.hour for _, t in interactions if FALL_BACK_UTC[0] <= t < FALL_BACK_UTC[1]} == {5, 6}

    # Queue performance: calls that entered the queue per local day of queued_at.
    per_day = Counter(local(t).date() for t in queued if t is not None)
    assert dict(queue_days) == dict(per_day)
    assert per_day != Counter(t.date() for t in queued if t is not None)

    # Staffing intervals: calls per local half hour, keyed by its UTC start (the UTC time minus the minutes and
    # seconds the local clock is into its half hour), and labelled with the local start.
    def half_hour(t: datetime) -> tuple[datetime, datetime]:
        wall = local(t)
        into = timedelta(minutes=wall.minute % 30, seconds=wall.second)
        return t - into, (wall - into).replace(tzinfo=None)

    expected_intervals = Counter((*half_hour(t), queue or "none") for t, queue in queued_legs)
    assert {(u, loc, q): n for u, loc, q, n in staffing} == dict(expected_intervals)
    billing_night = {
        (u, loc) for u, loc, q, _ in staffing if q == "billing" and FALL_BACK_UTC[0] <= u < FALL_BACK_UTC[1]
    }
    assert {
        (datetime(2026, 11, 1, 5), datetime(2026, 11, 1, 1)),
        (datetime(2026, 11, 1, 6), datetime(2026, 11, 1, 1)),
    } <= billing_night
    # The forecast is on the local clock: each local start is its UTC start seen from New York.
    assert forecast_starts and all(local(u).replace(tzinfo=None) == loc for loc, u in forecast_starts)

    # A text thread's transaction is its messages of one local day: New York evenings are not cut at UTC midnight.
    local_thread_days = {f"sms:{thread}:{local(t).date().isoformat()}" for thread, t in texts}
    assert {i for (i,) in thread_days} == local_thread_days
    assert local_thread_days != {f"sms:{thread}:{t.date().isoformat()}" for thread, t in texts}


def test_a_misspelt_reporting_zone_fails_the_run_at_once_naming_the_setting(warehouse: Path) -> None:
    env = {**os.environ, "CONTACT_WAREHOUSE_DB": str(warehouse)}
    result = subprocess.run(
        [dbt_executable(), "run", "--select", "stg_crm__customers", "--vars", "{reporting_timezone: America/NewYork}"]
        + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "var reporting_timezone: 'America/NewYork' is not an IANA time zone name" in result.stdout, result.stdout
