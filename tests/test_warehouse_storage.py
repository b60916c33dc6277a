"""The warehouse's writers run without DuckDB's vacuum, and the storage step removes the deleted rows they leave
(contact_warehouse/maintenance/storage.py; DECISIONS.md "The nightly run without DuckDB's vacuum")."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from contact_warehouse.engine.duckdb_settings import Plugin, connect
from contact_warehouse.loading.loader import connect_for_loading
from contact_warehouse.maintenance.storage import table_storage, vacuum_warehouse

ROWS = 600_000  # about five of DuckDB's row groups (122,880 rows)


def _vacuum_tasks(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select current_setting('max_vacuum_tasks')").fetchone()[0])


def _storage(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, int]:
    (table,) = [t for t in table_storage(con) if t.name == name]
    return table.stored_rows, table.live_rows


def _warehouse(path: Path) -> None:
    """Two tables written and checkpointed, then rows deleted by a writer of the warehouse: ``events`` loses
    every other row (scattered through every row group, as a night's rebuilt customers), ``calls`` one in ten."""
    con = duckdb.connect(str(path))
    con.execute(
        f"create schema marts; create table marts.events as select i as id, i % 997 as customer, "
        f"md5(i::varchar) as payload from range({ROWS}) t(i)"
    )
    con.execute(f"create table marts.calls as select i as id from range({ROWS}) t(i)")
    con.execute("comment on table marts.events is 'one row per event'")
    con.execute("comment on column marts.events.payload is 'what happened'")
    con.close()
    con = connect_for_loading(path)
    con.execute("delete from marts.events where id % 2 = 0")
    con.execute("delete from marts.calls where id % 10 = 0")
    con.execute("checkpoint")
    con.close()


def test_the_warehouse_writers_run_without_duckdbs_vacuum_and_the_publication_with_it(tmp_path: Path) -> None:
    config: dict = {}
    Plugin.__new__(Plugin).update_connection_config(type("Creds", (), {"path": str(tmp_path / "w.duckdb")})(), config)
    assert config["max_vacuum_tasks"] == 0  # dbt's connection, as DuckDB opens it
    with connect_for_loading(tmp_path / "w.duckdb") as con:
        assert _vacuum_tasks(con) == 0
    with connect(tmp_path / "serving.duckdb", preserve_insertion_order=False) as con:
        assert _vacuum_tasks(con) > 0  # the publication's serving file keeps DuckDB's default


def test_deleted_rows_stay_stored_without_vacuum_and_a_default_checkpoint_would_merge_them(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    with duckdb.connect(str(path)) as con:
        assert _storage(con, "events") == (ROWS, ROWS // 2)  # every even id deleted, still stored
    # What the setting avoids: any later checkpoint with DuckDB's default merges the half-empty row groups.
    with duckdb.connect(str(path)) as con:
        con.execute("insert into marts.calls values (-1)")
        con.execute("checkpoint")
        stored, live = _storage(con, "events")
        assert live == ROWS // 2 and stored < ROWS


def test_the_storage_step_rewrites_the_tables_past_the_share_and_keeps_their_rows_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    with duckdb.connect(str(path)) as con:
        before = con.execute("select * from marts.events except all select null, null, null").fetchall()
    dry = vacuum_warehouse(path, min_deleted_share=0.3, min_deleted_rows=1, dry_run=True)
    assert dry.rewritten == [] and dry.deleted_rows_before == ROWS // 2 + ROWS // 10
    result = vacuum_warehouse(path, min_deleted_share=0.3, min_deleted_rows=1)
    assert [t.name for t in result.rewritten] == ["events"]
    with duckdb.connect(str(path)) as con:
        assert _storage(con, "events") == (ROWS // 2, ROWS // 2)
        assert _storage(con, "calls") == (ROWS, ROWS - ROWS // 10)  # 10 % deleted: under the share, kept
        after = con.execute("select * from marts.events except all select null, null, null").fetchall()
        assert sorted(after) == sorted(before)
        comments = con.execute(
            "select comment from duckdb_tables() where table_name = 'events' union all "
            "select comment from duckdb_columns() where table_name = 'events' and column_name = 'payload'"
        ).fetchall()
        assert comments == [("one row per event",), ("what happened",)]
    everything = vacuum_warehouse(path, min_deleted_share=0.0, min_deleted_rows=1)
    assert [t.name for t in everything.rewritten] == ["calls"]
    assert vacuum_warehouse(path, dry_run=True).deleted_rows_before == 0


@pytest.mark.parametrize("extra", [[], ["--all"]])
def test_contact_warehouse_vacuum_by_hand(tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture) -> None:
    from orchestration.cli import main

    path = tmp_path / "w.duckdb"
    _warehouse(path)
    assert main(["vacuum", "--db", str(path), *extra]) == 0
    out = capsys.readouterr().out
    assert "events: 300,000 deleted of 600,000 stored (50%), rewritten" in out
    assert ("calls: 60,000 deleted of 600,000 stored (10%), " + ("rewritten" if extra else "kept")) in out


def test_the_storage_step_is_the_nightly_job_s_last_and_a_job_of_its_own() -> None:
    import dagster as dg

    from orchestration.assets.publication import PUBLICATION_KEY
    from orchestration.assets.storage import STORAGE_KEY
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    assert graph.get(STORAGE_KEY).parent_keys == {PUBLICATION_KEY}
    nightly = defs().resolve_job_def("warehouse_job")
    assert "warehouse__storage" in {node.name for node in nightly.graph.node_defs}
    by_hand = defs().resolve_job_def("vacuum_warehouse_job")
    assert {node.name for node in by_hand.graph.node_defs} == {"warehouse__storage"}
    config = {"ops": {"warehouse__storage": {"config": {"min_deleted_share": 0.0, "min_deleted_rows": 1}}}}
    assert dg.validate_run_config(by_hand, config)["ops"]["warehouse__storage"]["config"]["min_deleted_rows"] == 1


def test_the_run_s_line_says_what_the_storage_step_rewrote() -> None:
    import io

    from contact_warehouse.operations.run_lines import RunLines

    out = io.StringIO()
    lines = RunLines(out, "run", Path("serving.duckdb"), Path("report"))
    lines.step_started("warehouse__storage", 10.0)
    lines.materialized(
        "warehouse__storage", {"deleted_rows_removed": 634_225, "tables_rewritten": ["marts.fct_events"]}
    )
    lines.step_succeeded("warehouse__storage", 13.0)
    assert " ".join(out.getvalue().split()) == "storage 1 table rewritten, 634,225 deleted rows removed (3 s)"
