"""The publication writes its new file in one transaction (a fixed cost of every night, issue 22): the file equals
what statement-by-statement commits give, and a failure halfway still leaves the serving file as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

import contact_warehouse.publication.publish as publish_module
from contact_warehouse.publication.publish import publish
from tests.serving_snapshot import serving_snapshot

TABLES = ("fct_events", "mart_cockpit_daily", "mart_queue_performance")


def _build_file(path: Path) -> Path:
    """A build file with three commented marts tables (one with a daily grain), a view, and a staging table."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute("create table staging.stg_calls as select range as call_id from range(5)")
        for number, table in enumerate(TABLES):
            con.execute(
                f"create table marts.{table} as select range as row_id, date '2026-10-05' + cast(range % 7 as integer)"
                f" as day, range * {number + 1} as amount from range({100 * (number + 1)})"
            )
            con.execute(f"comment on table marts.{table} is 'The {table} mart.'")
            con.execute(f"comment on column marts.{table}.amount is 'Amount of {table}.'")
        con.execute("create view marts.recent_events as select * from marts.fct_events where row_id < 10")
    return path


class _Recorder:
    """A connection that records each statement (and can drop the transaction statements)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, statements: list[str], autocommit: bool) -> None:
        self._con, self._statements, self._autocommit = con, statements, autocommit

    def execute(self, sql: str, *args):
        self._statements.append(" ".join(sql.split()).lower())
        if self._autocommit and sql in ("begin transaction", "commit"):
            return self._con
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def _recording(monkeypatch: pytest.MonkeyPatch, autocommit: bool = False) -> list[str]:
    statements: list[str] = []
    connect = publish_module.connect
    monkeypatch.setattr(publish_module, "connect", lambda *a, **k: _Recorder(connect(*a, **k), statements, autocommit))
    return statements


def test_the_new_file_is_written_in_one_transaction_and_equals_a_statement_by_statement_publication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _build_file(tmp_path / "warehouse.duckdb")
    statements = _recording(monkeypatch)
    publish(build, tmp_path / "one" / "serving.duckdb", run_id="run-one-transaction")
    writes = [i for i, sql in enumerate(statements) if sql.startswith(("create", "comment", "insert"))]
    assert statements.count("begin transaction") == 1 and statements.count("commit") == 1
    assert statements.index("begin transaction") < writes[0] and writes[-1] < statements.index("commit")
    assert statements.index("commit") < statements.index("checkpoint")

    monkeypatch.undo()
    autocommit = _recording(monkeypatch, autocommit=True)
    publish(build, tmp_path / "each" / "serving.duckdb", run_id="run-one-transaction")
    assert len(autocommit) == len(statements)
    one, each = (
        serving_snapshot(tmp_path / "one" / "serving.duckdb"),
        serving_snapshot(tmp_path / "each" / "serving.duckdb"),
    )
    assert one == each
    assert {table for (schema, table) in one["rows"] if schema == "marts"} >= {*TABLES, "recent_events"}


def test_a_failure_inside_the_transaction_leaves_the_serving_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _build_file(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving" / "serving.duckdb"
    publish(build, serving, run_id="run-before")
    before = hashlib.sha256(serving.read_bytes()).hexdigest()

    copy_comments = publish_module._copy_comments
    copied: list[str] = []

    def fail_on_second_table(con, table, target) -> None:
        copied.append(table)
        if len(copied) == 2:
            raise OSError("disk full (simulated)")
        copy_comments(con, table, target)

    monkeypatch.setattr(publish_module, "_copy_comments", fail_on_second_table)
    with pytest.raises(OSError, match="simulated"):
        publish(build, serving, run_id="run-failed")
    assert hashlib.sha256(serving.read_bytes()).hexdigest() == before
    assert [p.name for p in serving.parent.iterdir()] == [serving.name]


def test_a_database_error_inside_the_transaction_is_raised_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed statement aborts DuckDB's transaction: the error raised must still name the cause, not "transaction
    is aborted" from a later statement."""
    build = _build_file(tmp_path / "warehouse.duckdb")
    published_tables = publish_module.published_tables
    monkeypatch.setattr(
        publish_module, "published_tables", lambda con, catalog: [*published_tables(con, catalog), "gone"]
    )
    with pytest.raises(duckdb.CatalogException, match="gone"):
        publish(build, tmp_path / "serving" / "serving.duckdb", run_id="run-missing-table")
    assert list((tmp_path / "serving").iterdir()) == []
