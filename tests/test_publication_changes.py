"""Publication copies only the marts tables that changed since the last publication (contact_warehouse/publication/
changes.py), and the file it swaps in equals a full publication of the same build, grain views and comments
included; a failure before the swap still leaves the serving file as it was."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from contact_warehouse.publication import publish as publish_module
from contact_warehouse.publication.publish import publish, read_publication


def _build(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.mart_daily as select * from (values ('day', date '2026-10-05', 3), "
            "('week', date '2026-10-05', 10)) v(period_grain, period_start, calls)"
        )
        con.execute("comment on table marts.mart_daily is 'Calls per period.'")
        con.execute("comment on column marts.mart_daily.calls is 'Calls that entered a queue.'")
        con.execute("create table marts.dim_agent as select * from (values ('A1', 'Ann'), ('A2', 'Bob')) v(id, name)")
        con.execute("create table marts.mart_old as select 1 as x")
        con.execute("create view marts.v_agents as select count(*) as agents from marts.dim_agent")
    return path


def _contents(serving: Path) -> dict:
    """Everything a reader sees in the marts schema: each table's and view's rows, columns and comments."""
    with duckdb.connect(str(serving), read_only=True) as con:
        objects = con.execute(
            "select table_name, table_type from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        out = {}
        for name, kind in objects:
            rows = sorted(con.execute(f"select * from marts.{name}").fetchall(), key=repr)
            columns = con.execute(
                "select column_name, data_type, comment from duckdb_columns() where schema_name = 'marts' "
                "and table_name = ? order by column_index",
                [name],
            ).fetchall()
            comment = con.execute(
                "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ? union all "
                "select comment from duckdb_views() where schema_name = 'marts' and view_name = ?",
                [name, name],
            ).fetchall()
            out[name] = (kind, rows, columns, comment)
        return out


def test_a_second_publication_copies_only_what_changed_and_equals_a_full_one(tmp_path: Path) -> None:
    build = _build(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving" / "serving.duckdb"
    first = publish(build, serving, run_id="first")
    assert set(first.copied) == {"mart_daily", "dim_agent", "mart_old", "v_agents"}

    unchanged = publish(build, serving, run_id="unchanged")
    assert unchanged.copied == ()
    assert unchanged.tables == first.tables
    assert read_publication(serving)["run_id"] == "unchanged"

    with duckdb.connect(str(build)) as con:
        con.execute("update marts.mart_daily set calls = 4 where period_grain = 'day'")  # a new day's figure
        con.execute("insert into marts.dim_agent values ('A3', 'Cem')")  # the view reading it changes too
        con.execute("drop table marts.mart_old")
        con.execute("create table marts.mart_new as select 'x' as y")
    changed = publish(build, serving, run_id="changed")
    assert set(changed.copied) == {"mart_daily", "dim_agent", "v_agents", "mart_new"}
    assert changed.tables == {"dim_agent": 3, "mart_daily": 2, "mart_new": 1, "v_agents": 1}

    full = tmp_path / "full" / "serving.duckdb"
    assert set(publish(build, full, run_id="full").copied) == set(changed.tables)
    assert _contents(serving) == _contents(full)
    published = _contents(serving)
    assert "mart_old" not in published
    assert published["mart_daily_day"][1] == [(date(2026, 10, 5), 4)]  # the grain view follows its table
    assert read_publication(serving)["tables"] == changed.tables


def test_a_changed_comment_alone_is_published(tmp_path: Path) -> None:
    build = _build(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving.duckdb"
    publish(build, serving, run_id="first")
    with duckdb.connect(str(build)) as con:
        con.execute("comment on column marts.dim_agent.name is 'The agent''s display name.'")
    assert publish(build, serving, run_id="second").copied == ("dim_agent",)
    with duckdb.connect(str(serving), read_only=True) as con:
        (comment,) = con.execute(
            "select comment from duckdb_columns() where table_name = 'dim_agent' and column_name = 'name'"
        ).fetchone()
    assert comment == "The agent's display name."


def test_a_serving_file_without_fingerprints_is_published_in_full(tmp_path: Path) -> None:
    build = _build(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving.duckdb"
    publish(build, serving, run_id="first")
    with duckdb.connect(str(serving)) as con:  # as a file written before fingerprints were kept
        con.execute("drop table meta.table_fingerprints")
    assert set(publish(build, serving, run_id="second").copied) == {"mart_daily", "dim_agent", "mart_old", "v_agents"}


def test_a_failure_while_replacing_a_table_leaves_the_serving_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _build(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving.duckdb"
    publish(build, serving, run_id="first")
    before = serving.read_bytes()
    with duckdb.connect(str(build)) as con:
        con.execute("update marts.mart_daily set calls = 5")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(publish_module, "add_grain_views", broken)
    with pytest.raises(OSError, match="disk full"):
        publish(build, serving, run_id="second")
    assert serving.read_bytes() == before
    assert read_publication(serving)["run_id"] == "first"
    assert not list(tmp_path.glob(".serving.duckdb.*")), "no temporary file is left behind"
