"""A night's publication written as the rows that changed into a copy of the last one (publication/delta.py) is the
same publication, table for table, as one written from scratch: rows, columns, comments, grain views and meta."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

import contact_warehouse.publication.delta as delta_module
import contact_warehouse.publication.publish as publish_module
from contact_warehouse.publication.publish import publish, read_publication
from tests.serving_snapshot import serving_snapshot


@pytest.fixture(autouse=True)
def _small_tables_use_the_delta(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures' tables are small: let every table of a few rows take the delta path."""
    monkeypatch.setattr(delta_module, "DELTA_MIN_ROWS", 1)


def _changed_copy(build: Path, path: Path, *statements: str) -> Path:
    """A copy of the build file ``build`` at ``path``, changed by ``statements``: the next night's build."""
    path.write_bytes(build.read_bytes())
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


def _from_scratch(build: Path, path: Path, run_id: str) -> dict:
    """What a reader sees in ``build`` published from scratch at ``path`` (no serving file to start from)."""
    return serving_snapshot(publish(build, path, run_id=run_id).path)


def _first_night(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute("create table staging.stg_calls as select range as call_id from range(5)")
        # NULLs in a column: a NULL must match a NULL, and not a value.
        con.execute(
            "create table marts.fct_events as select 'e' || range as event_id, "
            "timestamp '2026-10-05' + to_minutes(range::bigint * 7) as occurred_at, "
            "case when range % 5 = 0 then null else 'node ' || (range % 3) end as detail, "
            "[range % 2, range % 3] as tags from range(200)"
        )
        con.execute("comment on table marts.fct_events is 'One row per event.'")
        con.execute("comment on column marts.fct_events.detail is 'The IVR node.'")
        con.execute("comment on column marts.fct_events.tags is 'Tags, removed from dbt later.'")
        con.execute(
            "create table marts.mart_daily as select date '2026-10-05' + cast(range % 10 as integer) as period_start, "
            "case when range < 10 then 'day' else 'week' end as period_grain, range * 1.5 as amount from range(12)"
        )
        con.execute("comment on table marts.mart_daily is 'Daily and weekly amounts.'")
        con.execute("comment on column marts.mart_daily.amount is 'Amount.'")
        con.execute("create table marts.dim_gone as select range as gone_id from range(3)")
        con.execute("create table marts.fct_reshaped as select range as row_id, range as amount from range(20)")
        con.execute(
            "create view marts.recent_events as select * from marts.fct_events where occurred_at < "
            "timestamp '2026-10-05 01:00'"
        )
    return path


def _next_night(first: Path, path: Path) -> Path:
    """The first night's build changed as a night changes it: rows appended, removed and revised (one table's
    count unchanged), a table dropped and one added, a column's type changed, comments edited and removed, a grain
    added."""
    return _changed_copy(
        first,
        path,
        "delete from marts.fct_events where event_id in ('e3', 'e4', 'e150')",
        "update marts.fct_events set detail = null where event_id = 'e7'",
        "update marts.fct_events set detail = 'node 9' where event_id = 'e10'",
        "insert into marts.fct_events select 'e' || range, timestamp '2026-10-06' + to_minutes(range::bigint), "
        "null, [] from range(200, 230)",
        "update marts.mart_daily set amount = amount + 1 where period_start = date '2026-10-14'",
        "insert into marts.mart_daily values (date '2026-10-01', 'month', 99)",
        "drop table marts.dim_gone",
        "create table marts.dim_new as select range as new_id from range(4)",
        "comment on table marts.dim_new is 'New this night.'",
        "alter table marts.fct_reshaped alter amount type double",
        "comment on column marts.fct_events.detail is 'The IVR node, or NULL.'",
        "comment on column marts.fct_events.tags is null",
    )


def test_a_night_written_from_the_last_publication_equals_one_written_from_scratch(tmp_path: Path) -> None:
    first = _first_night(tmp_path / "night1.duckdb")
    second = _next_night(first, tmp_path / "night2.duckdb")
    serving = tmp_path / "serving" / "serving.duckdb"
    assert publish(first, serving, run_id="night-1").delta_tables == ()
    result = publish(second, serving, run_id="night-2")
    scratch = publish(second, tmp_path / "scratch" / "serving.duckdb", run_id="night-2")

    assert scratch.delta_tables == ()
    # The tables kept with their columns took the delta; the new, the reshaped and the materialised view did not.
    assert set(result.delta_tables) == {"fct_events", "mart_daily"}
    assert result.tables == scratch.tables
    assert serving_snapshot(serving) == serving_snapshot(scratch.path)
    snapshot = serving_snapshot(serving)
    assert ("marts", "dim_gone") not in snapshot["rows"] and ("marts", "dim_new") in snapshot["rows"]
    assert ("marts", "mart_daily_month") in snapshot["rows"], "the new grain has its view"
    assert len(snapshot["rows"][("marts", "fct_events")]) == 227
    assert read_publication(serving)["run_id"] == "night-2"


def test_a_table_whose_rows_repeat_is_copied_whole_and_still_equal(tmp_path: Path) -> None:
    """Rows are compared as sets; a table holding a row twice, published once, is caught and copied whole."""
    first = tmp_path / "night1.duckdb"
    with duckdb.connect(str(first)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_counts as select range % 4 as bucket from range(8)")
    # Bucket 1 now three times; 5 new.
    second = _changed_copy(first, tmp_path / "night2.duckdb", "insert into marts.mart_counts values (1), (5)")
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    result = publish(second, serving, run_id="night-2")
    assert result.delta_tables == ()
    assert serving_snapshot(serving) == _from_scratch(second, tmp_path / "scratch.duckdb", "night-2")


def test_a_table_that_mostly_changed_is_copied_whole(tmp_path: Path) -> None:
    first = _first_night(tmp_path / "night1.duckdb")
    second = _changed_copy(
        first,
        tmp_path / "night2.duckdb",
        "update marts.fct_events set occurred_at = occurred_at + interval 1 day where event_id < 'e5'",
    )
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    result = publish(second, serving, run_id="night-2")
    assert "fct_events" not in result.delta_tables and "mart_daily" in result.delta_tables
    assert serving_snapshot(serving) == _from_scratch(second, tmp_path / "scratch.duckdb", "night-2")


def test_a_failure_during_a_delta_leaves_the_serving_file_byte_for_byte_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _first_night(tmp_path / "night1.duckdb")
    second = _next_night(first, tmp_path / "night2.duckdb")
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    before = hashlib.sha256(serving.read_bytes()).hexdigest()
    replace = publish_module.replace_changed_rows

    def fail_after_the_first_delta(con, schema, table) -> bool:
        replace(con, schema, table)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(publish_module, "replace_changed_rows", fail_after_the_first_delta)
    with pytest.raises(OSError, match="simulated"):
        publish(second, serving, run_id="night-2")
    assert hashlib.sha256(serving.read_bytes()).hexdigest() == before
    assert [p.name for p in serving.parent.iterdir()] == [serving.name]


@pytest.mark.parametrize("damage", ["not a publication", "write-ahead log beside it", "not a DuckDB file"])
def test_a_serving_file_that_cannot_be_started_from_is_written_whole(tmp_path: Path, damage: str) -> None:
    first = _first_night(tmp_path / "night1.duckdb")
    second = _next_night(first, tmp_path / "night2.duckdb")
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    if damage == "not a publication":
        with duckdb.connect(str(serving)) as con:
            con.execute("drop schema meta cascade")
    elif damage == "write-ahead log beside it":
        serving.with_name(serving.name + ".wal").write_bytes(b"")
    else:
        serving.write_bytes(b"not a database")
    result = publish(second, serving, run_id="night-2")
    assert result.delta_tables == ()
    assert serving_snapshot(serving) == _from_scratch(second, tmp_path / "scratch.duckdb", "night-2")


@pytest.mark.parametrize("names", [("s", "b"), ("s", delta_module.ROW_ALIAS)])
def test_a_change_in_any_column_is_seen_whatever_the_columns_are_named(tmp_path: Path, names: tuple[str, str]) -> None:
    """The whole row is hashed, even when a column has the name of an alias the comparison could use (the row's
    own alias: then the table is copied whole)."""
    first = tmp_path / "night1.duckdb"
    with duckdb.connect(str(first)) as con:
        con.execute("create schema marts")
        con.execute(
            f"create table marts.mart_named as select range as s, range as {names[1]}, 0 as amount from range(10)"
        )
    second = _changed_copy(first, tmp_path / "night2.duckdb", "update marts.mart_named set amount = 1 where s = 3")
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    expected = () if delta_module.ROW_ALIAS in names else ("mart_named",)
    assert publish(second, serving, run_id="night-2").delta_tables == expected
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select s from marts.mart_named where amount = 1").fetchall() == [(3,)]


def test_the_real_marts_published_by_their_changed_rows_equal_a_whole_copy(small_run, tmp_path: Path) -> None:
    """Every marts table of a real build (all the column types the marts use, their comments and grain views)
    through the delta: a night that lost rows of every table, then the night that has them back."""
    small_run.succeeded()
    build = tmp_path / "warehouse.duckdb"
    build.write_bytes(small_run.db.read_bytes())
    fewer = tmp_path / "fewer.duckdb"
    fewer.write_bytes(build.read_bytes())
    with duckdb.connect(str(fewer)) as con:
        tables = [
            t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        ]
        for table in tables:
            con.execute(f'delete from marts."{table}" where rowid % 7 = 3')
        # An empty table is copied (it has fewer rows than DELTA_MIN_ROWS); every other one takes the delta.
        filled = {t for t in tables if con.execute(f'select count(*) from marts."{t}"').fetchone()[0]}
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(build, serving, run_id="night-1")
    for night, source in (("night-2", fewer), ("night-3", build)):
        result = publish(source, serving, run_id=night)
        assert set(result.delta_tables) == filled
        assert serving_snapshot(serving) == _from_scratch(source, tmp_path / f"{night}.duckdb", night)


def test_the_input_fingerprint_is_not_published_and_its_change_writes_no_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A customer rebuilt by an incremental model gets a new `_input_fingerprint` on every row: the column is pipeline
    bookkeeping, left out of the serving file, so rows whose published values are the same are not rewritten."""
    first = tmp_path / "night1.duckdb"
    with duckdb.connect(str(first)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_rows as select range as row_id, range % 7 as customer_key, "
            "md5(range % 7 || 'a') as _input_fingerprint, range * 2 as amount from range(100)"
        )
        con.execute("comment on column marts.fct_rows._input_fingerprint is 'Bookkeeping.'")
        con.execute("comment on column marts.fct_rows.amount is 'Amount.'")
    # Customer 3 rebuilt: every one of its rows gets a new fingerprint, one of them a new amount too.
    second = _changed_copy(
        first,
        tmp_path / "night2.duckdb",
        "update marts.fct_rows set _input_fingerprint = md5('b') where customer_key = 3",
        "update marts.fct_rows set amount = -1 where row_id = 3",
    )
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    # Customer 3 is 14 of the 100 rows: had they all changed, the table would be copied whole.
    monkeypatch.setattr(delta_module, "DELTA_MAX_CHANGED_SHARE", 0.1)
    result = publish(second, serving, run_id="night-2")
    assert result.delta_tables == ("fct_rows",)
    snapshot = serving_snapshot(serving)
    assert snapshot == _from_scratch(second, tmp_path / "scratch.duckdb", "night-2")
    with duckdb.connect(str(serving), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute("select column_name from duckdb_columns() where table_name = 'fct_rows'").fetchall()
        ]
        assert names == ["row_id", "customer_key", "amount"]
        assert con.execute("select amount from marts.fct_rows where row_id = 3").fetchall() == [(-1,)]


# The delta is computed from the serving file and the build alone, whatever happened in between: it does not rely on
# the serving file being the last build's publication (DECISIONS.md, "The publication's delta stays a comparison of
# both files"). The three cases below are those a record of the rows the build rewrote would have to chain.


def test_a_night_whose_publication_was_blocked_leaves_both_nights_changes_to_the_next(tmp_path: Path) -> None:
    """Night 2's checks failed: its build was not published. Night 3 is published onto night 1's file and carries
    both nights' changes, among them rows night 2 changed that night 3 changed again or put back."""
    first = _first_night(tmp_path / "night1.duckdb")
    second = _next_night(first, tmp_path / "night2.duckdb")
    third = _changed_copy(
        second,
        tmp_path / "night3.duckdb",
        "update marts.fct_events set detail = 'node 1' where event_id = 'e7'",  # night 2 set it NULL: back as it was
        "update marts.fct_events set detail = 'node 8' where event_id = 'e10'",  # changed again
        "delete from marts.fct_events where event_id in ('e201', 'e17')",  # one of night 2's rows, one of night 1's
        "insert into marts.fct_events values ('e3', timestamp '2026-10-05 00:21', 'node 0', [1, 0])",  # back
        "insert into marts.fct_events select 'e' || range, timestamp '2026-10-07', 'node 2', [0] from range(300, 310)",
    )
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    result = publish(third, serving, run_id="night-3")
    assert {"fct_events", "mart_daily"} <= set(result.delta_tables)
    assert serving_snapshot(serving) == _from_scratch(third, tmp_path / "scratch.duckdb", "night-3")
    with duckdb.connect(str(serving), read_only=True) as con:
        sql = "select event_id, detail from marts.fct_events where event_id in ('e7', 'e10')"
        details = dict(con.execute(sql).fetchall())
        assert details == {"e7": "node 1", "e10": "node 8"}
        assert (
            con.execute("select count(*) from marts.fct_events where event_id in ('e4', 'e17', 'e201')").fetchone()[0]
            == 0
        )


def test_a_full_refresh_that_rebuilt_a_table_is_published_equal(tmp_path: Path) -> None:
    """A full refresh writes every table anew, in another physical order, and a changed model can change a column on
    every row: rows that kept their values are matched wherever they now are; a table whose rows all changed is
    copied whole."""
    first = _first_night(tmp_path / "night1.duckdb")
    refreshed = _changed_copy(
        first,
        tmp_path / "refresh.duckdb",
        "create table marts.fct_events_new as select * from marts.fct_events order by hash(event_id)",
        "drop view marts.recent_events",
        "drop table marts.fct_events",
        "alter table marts.fct_events_new rename to fct_events",
        "create view marts.recent_events as select * from marts.fct_events where occurred_at < "
        "timestamp '2026-10-05 01:00'",
        "comment on table marts.fct_events is 'One row per event.'",
        "update marts.fct_events set detail = 'node 5' where event_id = 'e12'",
        "create or replace table marts.mart_daily as select period_start, period_grain, amount * 2 as amount "
        "from marts.mart_daily",
    )
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(first, serving, run_id="night-1")
    result = publish(refreshed, serving, run_id="refresh")
    assert "fct_events" in result.delta_tables, "the same rows in another order are not a change"
    assert "mart_daily" not in result.delta_tables, "every row changed: copied whole"
    assert serving_snapshot(serving) == _from_scratch(refreshed, tmp_path / "scratch.duckdb", "refresh")


@pytest.mark.parametrize("origin", ["another warehouse", "restored from two nights ago"])
def test_a_serving_file_that_is_not_the_last_builds_publication_is_published_equal(tmp_path: Path, origin: str) -> None:
    """The serving file was copied from another warehouse's publication, or restored from a backup older than the
    last publication: the next publication still equals one written from scratch."""
    first = _first_night(tmp_path / "night1.duckdb")
    second = _next_night(first, tmp_path / "night2.duckdb")
    serving = tmp_path / "serving" / "serving.duckdb"
    if origin == "another warehouse":
        other = _changed_copy(
            first,
            tmp_path / "other.duckdb",
            "update marts.fct_events set detail = 'elsewhere' where event_id in ('e0', 'e1', 'e2')",
            "delete from marts.fct_events where event_id like 'e19_'",
            "insert into marts.fct_events select 'x' || range, timestamp '2026-09-01', null, [] from range(20)",
            "update marts.mart_daily set amount = -amount where period_grain = 'week'",
        )
        publish(other, serving, run_id="other-warehouse")
    else:
        publish(first, serving, run_id="night-1")
        backup = serving.read_bytes()
        publish(second, serving, run_id="night-2")
        serving.write_bytes(backup)
    third = _changed_copy(
        second, tmp_path / "night3.duckdb", "update marts.fct_events set detail = 'node 4' where event_id = 'e20'"
    )
    result = publish(third, serving, run_id="night-3")
    assert "fct_events" in result.delta_tables
    assert serving_snapshot(serving) == _from_scratch(third, tmp_path / "scratch.duckdb", "night-3")
