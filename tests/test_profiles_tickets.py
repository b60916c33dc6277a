"""Help-desk tickets through shipped profiles, without code: a Zendesk Support incremental ticket export with the
tickets' audits (JSON lines, tests/fixtures/profiles_v2/zendesk_tickets) and a generic one-row-per-ticket CSV
(tests/fixtures/profiles_v2/ticket_csv), checked with `contact-warehouse profile check`, then loaded and built into
the ticket marts. Every figure below is computed by hand from the fixtures (default schedule: New York,
weekdays 08:00-21:00; 2026-10-05 is a Monday, EDT = UTC-4)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import load_landing, run_dbt

from contact_warehouse.settings import DBT_PROJECT_DIR, MAPPING_PROFILES_DIR
from orchestration import cli

FIXTURES = Path(__file__).parent / "fixtures" / "profiles_v2"
ZENDESK = FIXTURES / "zendesk_tickets" / "tickets_2026-10-07.jsonl"
CSV = FIXTURES / "ticket_csv" / "tickets_2026-10-07.csv"
DAY5, DAY6, DAY7 = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7)
MF = Path(sys.executable).parent / "mf"  # the venv's MetricFlow CLI, beside its python


def check(profile: str, sample: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["profile", "check", str(MAPPING_PROFILES_DIR / profile), str(sample)]) == 0
    return capsys.readouterr().out


def test_profile_check_reads_both_ticket_exports(capsys: pytest.CaptureFixture[str]) -> None:
    zendesk = check("zendesk_tickets.yml", ZENDESK, capsys)
    # Four tickets: two load, the deleted one's three rows (two audit events, no tags) are filtered, the tweet is
    # quarantined (rows are the JSON's flattened rows: audit events and tags).
    assert "tickets: read 6, would load 2, rejected 1, filtered 3" in zendesk
    assert "line 4: tickets.via_channel: via.channel not one of email, web, phone, api, chat 'twitter'" in zendesk
    generic = check("ticket_csv.yml", CSV, capsys)
    assert "tickets: read 5, would load 3, rejected 2, filtered 0" in generic
    assert "line 5: tickets.created_at: unparseable timestamp 'yesterday'" in generic
    assert "line 6: tickets.solved_at: solved before it was created '2026-10-05T11:00:00Z'" in generic


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both samples loaded and the ticket marts built once for the module's tests."""
    warehouse = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    landing = tmp_path_factory.mktemp("landing")
    for sample in (ZENDESK, CSV):
        (landing / sample.parent.name).mkdir(parents=True)
        shutil.copy(sample, landing / sample.parent.name / sample.name)
    load_landing(warehouse, landing, MAPPING_PROFILES_DIR)
    run_dbt(
        [
            "build",
            "--select",
            "+mart_ticket_daily",
            "+mart_ticket_backlog",
            "--exclude",
            "resource_type:test",
            "resource_type:unit_test",
        ],
        warehouse,
    )
    return warehouse


def test_ticket_profiles_reach_the_ticket_marts(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        ledger = con.execute(
            """select profile, rows_read, rows_loaded, rows_rejected, rows_filtered from raw._load_ledger
               where status = 'loaded' order by profile"""
        ).fetchall()
        quarantined = con.execute(
            """select regexp_extract(file_path, '[^/]+/[^/]+$'), line, field from raw._quarantine
               where export = 'tickets' order by 1, 2"""
        ).fetchall()
        comments = con.execute(
            """select ticket_id, comment_id, author_role, public from raw.ticket_comments
               order by ticket_id, comment_index"""
        ).fetchall()
        daily = con.execute(
            """select period_start, ticket_group, ticket_channel, ticket_intent, tickets_created, first_replied_tickets,
                      first_reply_business_minutes_sum, first_reply_calendar_minutes_sum, sla_met_tickets,
                      solved_tickets, resolution_business_minutes_sum, resolution_calendar_minutes_sum,
                      requester_wait_business_minutes_sum, solved_agent_replies, one_touch_tickets, reopened_tickets,
                      solved_tickets_with_history
               from marts.mart_ticket_daily where period_grain = 'day' order by 1, 2"""
        ).fetchall()
        backlog = con.execute(
            "select activity_date, ticket_group, open_tickets from marts.mart_ticket_backlog order by 1, 2"
        ).fetchall()
        scores = con.execute(
            "select ticket_id, satisfaction_score from staging.stg_tickets__tickets order by 1"
        ).fetchall()
    assert ledger == [("ticket_csv", 5, 3, 2, 0), ("zendesk_tickets", 6, 2, 1, 3)]
    # Bad rows are quarantined with their file's line and field, nothing lost.
    assert quarantined == [
        ("ticket_csv/tickets_2026-10-07.csv", 5, "tickets.created_at"),
        ("ticket_csv/tickets_2026-10-07.csv", 6, "tickets.solved_at"),
        ("zendesk_tickets/tickets_2026-10-07.jsonl", 4, "tickets.via_channel"),
    ]
    # Zendesk: the trigger's comment (via rule) is the system's, the requester's own comments the end-user's,
    # the private one an agent's internal note. The CSV gives each ticket its opening message (the subject).
    assert comments == [
        ("35436", "2003", "end-user", True),
        ("35436", "2004", "system", True),
        ("35436", "2005", "agent", False),
        ("35436", "2006", "agent", True),
        ("35437", "2013", "end-user", True),
        ("35437", "2014", "agent", True),
        ("35437", "2016", "end-user", True),
        ("35437", "2018", "agent", True),
        ("T-1001", "T-1001-opening", "end-user", True),
        ("T-1002", "T-1002-opening", "end-user", True),
        ("T-1003", "T-1003-opening", "end-user", True),
    ]
    assert daily == [
        # 35436: e-mailed Mon 10:00 EDT, answered 11:00 (the auto-reply and the note are no reply) and solved by
        # that one reply: 60 min in business and calendar time, one touch, SLA met (normal: 8 h).
        (DAY5, "360001", "email", "billing_question", 1, 1, 60.0, 60.0, 1, 1, 60.0, 60.0, 60.0, 1, 1, 0, 1),
        # 35437: Mon 16:00 EDT -> Tue 09:00 first reply: 300 + 60 = 360 business, 1020 calendar minutes; high
        # priority (4 h): missed. Solved Tue, reopened, solved again Wed (dated there).
        (DAY5, "360002", "web", "technical_fault", 1, 1, 360.0, 1020.0, 0, 0, 0.0, 0.0, 0.0, 0, 0, 0, 0),
        # T-1001: Mon 10:00 -> 14:00 EDT solved: 240 minutes both ways. The CSV has no messages nor status history:
        # no first reply, and its replies, one-touch, reopens and requester wait are not known (not counted in
        # the solved tickets with history, the denominator of those KPIs).
        (DAY5, "billing", "email", "billing_question", 1, 0, 0.0, 0.0, 0, 1, 240.0, 240.0, 0.0, 0, 0, 0, 0),
        # T-1002: still open; made from a call, so its channel is voice.
        (DAY5, "tech_support", "voice", "technical_fault", 1, 0, 0.0, 0.0, 0, 0, 0.0, 0.0, 0.0, 0, 0, 0, 0),
        (DAY6, "billing", "web", "billing_question", 1, 0, 0.0, 0.0, 0, 0, 0.0, 0.0, 0.0, 0, 0, 0, 0),
        # 35437 solved Wed 10:00 EDT: Mon 16:00-21:00 (300) + Tue 08:00-21:00 (780) + Wed 08:00-10:00 (120) =
        # 1200 business, 2520 calendar minutes; waiting on the desk while new (Mon 16:00 -> Tue 09:00: 360) and
        # reopened (Tue 16:00 -> Wed 10:00: 300 + 120 = 420): 780. Two public replies; reopened, so no one touch.
        (DAY7, "360002", "web", "technical_fault", 0, 0, 0.0, 0.0, 0, 1, 1200.0, 2520.0, 780.0, 2, 0, 1, 1),
        # T-1003: Tue 09:00 EDT -> Wed 09:00: 720 + 60 = 780 business, 1440 calendar minutes (no history).
        (DAY7, "billing", "web", "billing_question", 0, 0, 0.0, 0.0, 0, 1, 780.0, 1440.0, 0.0, 0, 0, 0, 0),
    ]
    # Open at each day's end until the export's last moment (Wed 14:00 UTC): 35437 until its first solve and
    # while reopened on Tuesday; T-1002 throughout; T-1003 on Tuesday.
    assert backlog == [
        (DAY5, "360002", 1),
        (DAY5, "tech_support", 1),
        (DAY6, "360002", 1),
        (DAY6, "billing", 1),
        (DAY6, "tech_support", 1),
        (DAY7, "tech_support", 1),
    ]
    assert scores == [("35436", "good"), ("35437", "offered"), ("T-1001", "good"), ("T-1002", None), ("T-1003", "bad")]


def test_ticket_metrics_of_the_week_from_the_semantic_layer(built: Path, tmp_path: Path) -> None:
    """The week of 2026-10-05 over both exports, by hand: first reply (60 + 360) / 2 = 210 business minutes;
    SLA 1 met of 2 judged (35437 late; the CSV's tickets T-1001..T-1003 have no messages exported: their reply
    is not known, so they are not judged, where they once counted as misses); 4 solved (35436, T-1001, 35437,
    T-1003): resolution (60 + 240 + 1200 + 780) / 4 = 570 business minutes; agent replies, one touch and reopens
    over the 2 solved tickets with history: 3 replies / 2, one touch 1/2 (35436), reopened 1/2 (35437).
    MetricFlow and the mart's week rows (rates compiled from the same metrics) agree."""
    names = (
        "first_reply_business_minutes,sla_attainment_rate,resolution_business_minutes,agent_replies_per_ticket,"
        "one_touch_resolution_rate,reopen_rate,tickets_created"
    )
    expected = {
        "first_reply_business_minutes": 210.0,
        "sla_attainment_rate": 0.5,
        "resolution_business_minutes": 570.0,
        "agent_replies_per_ticket": 1.5,
        "one_touch_resolution_rate": 0.5,
        "reopen_rate": 0.5,
        "tickets_created": 5.0,
    }
    env = {**os.environ, "CONTACT_WAREHOUSE_DB": str(built), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    out = tmp_path / "week.csv"
    result = subprocess.run(
        [str(MF), "query", "--metrics", names, "--group-by", "metric_time__week", "--csv", str(out), "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["metric_time__week"].startswith("2026-10-05")
    assert {name: float(row[name]) for name in expected} == pytest.approx(expected)
    # The mart's week rows re-summed across groups, agents, intents and channels give the same rates.
    with duckdb.connect(str(built), read_only=True) as con:
        sla, solved_replies, solved = con.execute(
            """select sum(sla_met_tickets) / sum(sla_judged_tickets), sum(solved_agent_replies), sum(solved_tickets)
               from marts.mart_ticket_daily where period_grain = 'week'"""
        ).fetchone()
    assert (sla, solved_replies, solved) == (0.5, 3, 4)
