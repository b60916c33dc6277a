"""int_staffing_actuals incremental by interval (contact_warehouse/staffing/actuals.py and the strategy
'staffing_interval_changes'): a nightly run after a new day, a late correction, a vanished interval or a new
target gives exactly the table a full recompute gives, and computes only the intervals whose inputs changed."""

from __future__ import annotations

import duckdb
import jinja2
import pandas as pd
import pytest

from contact_warehouse.engine.python_models import Params, staffing_actuals
from contact_warehouse.settings import DBT_PROJECT_DIR
from contact_warehouse.staffing.actuals import KEY

PARAMS = Params(staffing_fallback_aht_days=7)
HISTORY_DAYS = 20
# Intervals of 30 minutes, 08:00-12:00, two queues; every fifth interval has its calls all abandoned (it takes the
# queue's recent AHT).
INTERVALS = f"""
    select
        md5(queue || '|' || cast(interval_start_utc as varchar)) as {KEY},
        30 as interval_minutes,
        interval_start_utc,
        interval_start_utc as interval_start_local,
        cast(interval_start_utc as date) as activity_date,
        'voice' as channel,
        queue,
        20 as service_level_seconds,
        cast(4 + (day * 7 + slot * 3) % 11 as bigint) as offered_contacts,
        cast(case when (day + slot) % 5 = 0 then 0 else 4 + (day * 7 + slot * 3) % 11 end as bigint)
            as answered_contacts,
        cast(case when (day + slot) % 5 = 0 then 0 else (4 + (day * 7 + slot * 3) % 11) * (150 + day * 3) end
            as bigint) as handle_seconds,
        cast(2 + slot % 3 as bigint) as agents_handling
    from (
        select
            queue, day, slot,
            timestamp '2026-10-01 08:00:00' + to_days(day) + to_minutes(30 * slot) as interval_start_utc
        from (values ('billing'), ('sales')) as queues (queue),
            range(0, {{days}}) as days (day),
            range(0, 8) as slots (slot)
    )
"""
TARGETS = """
    select * from (values ('billing', 0.8, 20, 0.85, 0.3), ('sales', 0.9, 15, 0.85, 0.35))
        as t (queue, service_level_target, service_level_seconds, max_occupancy, shrinkage)
"""


def _changes_sql(target: str, changes: str, intervals: str) -> str:
    """The strategy's statements, rendered from the project's macro (what dbt runs)."""
    macro = (DBT_PROJECT_DIR / "macros" / "incremental_staffing.sql").read_text(encoding="utf-8")
    module = jinja2.Environment().from_string(macro).module
    return str(module.staffing_interval_changes_sql(target, changes, intervals))  # type: ignore[attr-defined]


def _inputs(con: duckdb.DuckDBPyConnection) -> dict[str, duckdb.DuckDBPyRelation]:
    return {"mart_staffing_queue_intervals": con.table("intervals"), "int_queue_service_levels": con.table("targets")}


def _store(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """The model's frame as a table, as dbt-duckdb writes it."""
    con.register("model_frame", frame)
    con.execute(f"create or replace table {table} as select * from model_frame")
    con.unregister("model_frame")


@pytest.fixture
def history() -> duckdb.DuckDBPyConnection:
    """The history's intervals and targets, and int_staffing_actuals computed in full on them (table actuals)."""
    con = duckdb.connect()
    con.execute(f"create table intervals as {INTERVALS.format(days=HISTORY_DAYS)}")
    con.execute(f"create table targets as {TARGETS}")
    _store(con, "actuals", staffing_actuals(_inputs(con), PARAMS))
    return con


def _nightly(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The nightly run on the current inputs, written by the strategy; returns the keys it computed."""
    _store(con, "changes", staffing_actuals(_inputs(con), PARAMS, "actuals"))
    con.execute(_changes_sql("actuals", "changes", "intervals")).fetchall()
    computed = {row[0] for row in con.execute(f"select {KEY} from changes").fetchall()}
    con.execute("drop table changes")
    return computed


def _differences(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Rows of the incremental table missing from a full recompute, and the other way round (as multisets)."""
    _store(con, "full_recompute", staffing_actuals(_inputs(con), PARAMS))
    only_incremental = con.execute("select count(*) from (from actuals except all from full_recompute)").fetchall()[0][
        0
    ]
    only_full = con.execute("select count(*) from (from full_recompute except all from actuals)").fetchall()[0][0]
    return only_incremental, only_full


def _keys(con: duckdb.DuckDBPyConnection, condition: str) -> set[str]:
    return {row[0] for row in con.execute(f"select {KEY} from intervals where {condition}").fetchall()}


def test_a_new_day_is_all_a_nightly_run_computes(history) -> None:
    con = history
    new_day = f"activity_date = date '2026-10-01' + {HISTORY_DAYS}"
    con.execute(
        f"insert into intervals select * from ({INTERVALS.format(days=HISTORY_DAYS + 1)}) where {new_day}"
    ).fetchall()
    computed = _nightly(con)
    assert computed == _keys(con, new_day)
    assert _differences(con) == (0, 0)


def test_a_late_correction_recomputes_its_interval_and_the_fallbacks_after_it(history) -> None:
    """A corrected interval of 6 October (more handle seconds): the interval itself, and the intervals where
    nothing was answered on 6 to 12 October in its queue (their fallback AHT covers the 6th), nothing else; a
    vanished interval is deleted."""
    con = history
    corrected = "queue = 'billing' and activity_date = date '2026-10-06' and answered_contacts > 0"
    (key,) = sorted(_keys(con, corrected))[:1]
    con.execute(f"update intervals set handle_seconds = handle_seconds + 600 where {KEY} = ?", [key]).fetchall()
    # Nothing answered there: its queue's recent AHT stays as it was.
    vanished = "queue = 'sales' and activity_date = date '2026-10-03' and answered_contacts = 0"
    (vanished,) = sorted(_keys(con, vanished))[:1]
    con.execute(f"delete from intervals where {KEY} = ?", [vanished]).fetchall()
    computed = _nightly(con)
    fallbacks = _keys(
        con,
        "queue = 'billing' and answered_contacts = 0"
        " and activity_date between date '2026-10-06' and date '2026-10-06' + 6",
    )
    assert fallbacks
    assert computed == {key, *fallbacks}
    assert con.execute(f"select count(*) from actuals where {KEY} = ?", [vanished]).fetchall()[0][0] == 0
    assert _differences(con) == (0, 0)


def test_a_new_target_recomputes_its_queue(history) -> None:
    con = history
    con.execute("update targets set service_level_target = 0.7 where queue = 'sales'").fetchall()
    computed = _nightly(con)
    assert computed == _keys(con, "queue = 'sales'")
    assert _differences(con) == (0, 0)


def test_the_fallback_aht_is_the_queues_over_the_recent_days() -> None:
    """With a window of 2 days, day 1's interval where nothing was answered takes the AHT of days 0 and 1
    ((1000 + 3000) / 20 = 200 s), not of the later day 2; an interval with answered calls has none."""
    con = duckdb.connect()
    con.execute(
        f"""create table intervals as select
            md5(cast(day as varchar) || slot) as {KEY}, 30 as interval_minutes,
            timestamp '2026-10-01 08:00:00' + to_days(day) + to_minutes(30 * slot) as interval_start_utc,
            date '2026-10-01' + day as activity_date, 'billing' as queue, 20 as service_level_seconds,
            cast(offered as bigint) as offered_contacts, cast(answered as bigint) as answered_contacts,
            cast(handle as bigint) as handle_seconds, cast(1 as bigint) as agents_handling
        from (values (0, 0, 10, 10, 1000), (1, 0, 3, 0, 0), (1, 1, 10, 10, 3000), (2, 0, 10, 10, 9000))
            as v (day, slot, offered, answered, handle)"""
    )
    con.execute(f"create table targets as {TARGETS}")
    result = staffing_actuals(_inputs(con), Params(staffing_fallback_aht_days=2))
    by_day_slot = result.set_index(["activity_date", "interval_start_utc"]).sort_index()
    assert by_day_slot["fallback_aht_seconds"].isna().tolist() == [True, False, True, True]
    assert by_day_slot["planning_aht_seconds"].tolist() == [100.0, 200.0, 300.0, 900.0]


def test_a_table_built_before_it_became_incremental_is_named(history) -> None:
    con = history
    con.execute("alter table actuals drop column _input_fingerprint")
    with pytest.raises(ValueError, match="built before it became incremental by interval"):
        staffing_actuals(_inputs(con), PARAMS, "actuals")
