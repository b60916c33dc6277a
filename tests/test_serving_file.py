"""The serving file for a SQL user: one name per measure, one view per grain, and a NULL FCR that says why.

Runs on the serving file of the session's `contact-warehouse run` on the bundled sample (`sample_run`, the README's
run): the file a SQL user opens first."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from conftest import CliRun

from contact_warehouse.report.metrics import load_metrics

# The canonical name of every column about CSAT (DECISIONS.md, "One name per measure"): a share is `<kpi>_rate`, a
# mean `<measure>_mean`, a sum `<measure>_sum`; `csat`, `csat_mean_score` and the like are the names it replaced.
CSAT_NAMES = {
    "csat_rate", "csat_answers", "csat_satisfied", "csat_score_mean", "csat_score_sum", "team_csat_rate",
    "is_low_csat", "is_csat_satisfied", "latest_csat_score", "last_csat_at",
    "peer_csat_rate", "csat_lower_bound",  # the coaching plan's peers, routing's Wilson bound
}  # fmt: skip
# A call is `voice` (its IVR part `ivr`) in every channel-like column; `phone` is an identifier type, never a channel.
CHANNEL_COLUMN = re.compile(r"(^|_)(channel|medium|channels|channel_path)$")


@pytest.fixture(scope="module")
def serving(sample_run: CliRun) -> Path:
    path = sample_run.succeeded().serving
    assert path.exists(), "the run published no serving file"
    return path


def columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return con.execute(
        "select table_name, column_name, data_type from information_schema.columns where table_schema = 'marts' "
        "order by table_name, ordinal_position"
    ).fetchall()


def test_every_csat_column_has_its_canonical_name(serving: Path) -> None:
    with duckdb.connect(str(serving), read_only=True) as con:
        found = [(t, c) for t, c, _ in columns(con) if re.search(r"(^|_)csat(_|$)", c)]
    assert found, "no CSAT column at all"
    assert [(t, c) for t, c in found if c not in CSAT_NAMES] == []


def test_a_rate_has_the_metric_s_name_wherever_its_counts_are(serving: Path) -> None:
    """A table holding both counts of a semantic-layer ratio holds the rate under the metric's name (mart_satisfaction
    had `csat` where the agent scorecard had `csat_rate`, mart_sentiment `negative_interaction_share` for the
    cockpit's `negative_sentiment_share`)."""
    ratios = [m for m in load_metrics().values() if m.denominator and m.numerator.name == m.numerator.expr]
    with duckdb.connect(str(serving), read_only=True) as con:
        tables: dict[str, set[str]] = {}
        for table, column, _ in columns(con):
            tables.setdefault(table, set()).add(column)
    wrong = [
        (table, m.name)
        for table, names in tables.items()
        for m in ratios
        if {m.numerator.expr, m.denominator.expr} <= names and m.name not in names
    ]
    checked = [
        (t, m.name) for t, names in tables.items() for m in ratios if {m.numerator.expr, m.denominator.expr} <= names
    ]
    assert len(checked) > 10
    assert wrong == []


def test_a_call_is_voice_in_every_channel_column(serving: Path) -> None:
    with duckdb.connect(str(serving), read_only=True) as con:
        channel_columns = [(t, c) for t, c, kind in columns(con) if kind == "VARCHAR" and CHANNEL_COLUMN.search(c)]
        phone = [
            (t, c)
            for t, c in channel_columns
            if con.execute(
                f"""select count(*) from marts."{t}" where "{c}" = 'phone' or "{c}" like 'phone >%'
                    or "{c}" like '%> phone' or "{c}" like '%> phone >%'"""
            ).fetchone()[0]
        ]
        voice = sum(
            con.execute(f"""select count(*) from marts."{t}" where "{c}" like '%voice%'""").fetchone()[0]
            for t, c in channel_columns
        )
    assert ("mart_solution_effectiveness", "starting_medium") in channel_columns
    assert phone == [] and voice > 0


def test_each_mixed_grain_mart_has_one_view_per_grain(serving: Path) -> None:
    """Summing a per-grain view needs no filter: the week view's total is the day rows' total, where the mixed
    table's total is three times it (day, week and month rows)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        mixed = [t for (t,) in con.execute(
            "select table_name from information_schema.columns where table_schema = 'marts' "
            "and column_name = 'period_grain' and table_name in (select table_name from duckdb_tables() "
            "where schema_name = 'marts')").fetchall()]  # fmt: skip
        sql = "select view_name, comment from duckdb_views() where schema_name = 'marts'"
        views = dict(con.execute(sql).fetchall())
        assert "mart_resolution" in mixed and len(mixed) >= 10
        for table in mixed:
            grains = [g for (g,) in con.execute(f"select distinct period_grain from marts.{table}").fetchall()]
            for grain in grains:
                assert f"{table}_{grain}" in views and views[f"{table}_{grain}"], (table, grain)
            (comment,) = con.execute(
                "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?", [table]
            ).fetchone()
            assert comment.startswith("MIXED GRAINS"), table
        sql = "select column_name from duckdb_columns() where table_name = 'mart_resolution_week'"
        view_columns = {c for (c,) in con.execute(sql).fetchall()}
        assert "period_grain" not in view_columns and "fcr_status" in view_columns
        (days, weeks, months, everything) = con.execute(
            """select (select sum(interactions) from marts.mart_resolution_day),
                      (select sum(interactions) from marts.mart_resolution_week),
                      (select sum(interactions) from marts.mart_resolution_month),
                      (select sum(interactions) from marts.mart_resolution)"""
        ).fetchone()
        uncommented = con.execute(
            "select table_name || '.' || column_name from duckdb_columns() where schema_name = 'marts' "
            "and table_name like '%\\_week' escape '\\' and coalesce(comment, '') = ''"
        ).fetchall()
    assert days == weeks == months and everything == 3 * days
    assert uncommented == []


def test_fcr_last_week_says_why_it_is_null(serving: Path) -> None:
    """The last complete week's FCR is NULL (its engagements' windows end after the data does) and its status says
    when it will be known, a date after the data's end; every NULL FCR has a reason, every rate 'ok' or
    'provisional'."""
    with duckdb.connect(str(serving), read_only=True) as con:
        (last_day,) = con.execute("select max(period_start) from marts.mart_resolution_day").fetchone()
        (data_end,) = con.execute("select cast(max(ended_at) as date) from marts.fct_transactions").fetchone()
        last_week = con.execute(
            """select period_start, sum(fcr_engagements), sum(closed_engagements), list(distinct fcr_status)
               from marts.mart_resolution_week
               where period_start = (select max(period_start) from marts.mart_resolution_week
                                     where period_start + interval 6 day < ?)
               group by period_start""",
            [last_day],
        ).fetchone()
        statuses = con.execute(
            "select fcr_rate is null, fcr_status, count(*) from marts.mart_resolution group by all"
        ).fetchall()
        open_rows = con.execute(
            """select fcr_status from marts.mart_resolution_week
               where period_start = ? and fcr_status like 'not yet mature: window closes %'""",
            [last_week[0]],
        ).fetchall()
    _, _, _, week_statuses = last_week
    assert open_rows, week_statuses
    for (status,) in open_rows:
        closes = status.removeprefix("not yet mature: window closes ")
        assert closes > data_end.isoformat(), status
    for is_null, status, _ in statuses:
        if is_null:
            assert status in ("no resolution data", "no eligible contacts", "no engagements") or status.startswith(
                "not yet mature: window closes "
            ), status
        else:
            assert status == "ok" or status.startswith("provisional: window closes "), status
