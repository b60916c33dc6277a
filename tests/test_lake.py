"""The Parquet lake (contact_warehouse/loading/lake.py): every load of every raw table as a Parquet partition,
written once (a re-load adds and rewrites nothing), and dbt's staging on DuckDB reads the same rows from the lake
as from the raw tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import load_landing

from contact_warehouse.loading.sources import EXPORTS
from contact_warehouse.settings import DBT_PROJECT_DIR

TINY = {"customers": 40, "days": 2, "seed": 7}


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from contact_warehouse.generator import generate

    landing = tmp_path_factory.mktemp("lake_landing") / "landing"
    generate(landing, **TINY)
    return landing


def _lake_files(lake: Path) -> dict[str, int]:
    return {str(path.relative_to(lake)): path.stat().st_mtime_ns for path in lake.rglob("*.parquet")}


def test_a_load_writes_one_partition_per_export_and_load(warehouse: Path, tiny_landing: Path) -> None:
    load_landing(warehouse, tiny_landing)
    lake = warehouse.parent / "lake"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for export in EXPORTS:
            for table in export.tables:
                loads = con.execute(f"select _load_id, count(*) from raw.{table.name} group by 1").fetchall()
                for load_id, rows in loads:
                    part = lake / table.name / f"export={export.name}" / f"load_id={load_id}" / "data.parquet"
                    assert part.is_file(), part
                    parquet = f"read_parquet('{part}', hive_partitioning = false)"
                    assert con.execute(f"select count(*) from {parquet}").fetchone()[0] == rows
                    # The same rows, enriched columns included, in the same column order.
                    differing = con.execute(
                        f"select count(*) from (select * from raw.{table.name} where _load_id = '{load_id}'"
                        f" except all select * from {parquet})"
                    ).fetchone()[0]
                    assert differing == 0, part
                # Every table has its columns in the lake even without rows, for readers' globs.
                assert (lake / table.name / "export=none" / "load_id=none" / "data.parquet").is_file()
        assert con.execute("select count(*) from raw.calls").fetchone()[0] > 0
        ledger = con.execute(f"select count(*) from read_parquet('{lake}/_load_ledger/data.parquet')").fetchone()[0]
        assert ledger == con.execute("select count(*) from raw._load_ledger").fetchone()[0]
        columns = [
            row[0]
            for row in con.execute(f"describe select * from read_parquet('{lake}/calls/*/*/*.parquet')").fetchall()
        ]
    assert "from_number_node" in columns and "from_number_e164" in columns


def test_reloading_the_same_exports_writes_nothing_and_a_lost_write_is_repaired(
    warehouse: Path, tiny_landing: Path
) -> None:
    load_landing(warehouse, tiny_landing)
    lake = warehouse.parent / "lake"
    before = _lake_files(lake)
    load_landing(warehouse, tiny_landing)
    after = _lake_files(lake)
    # The loader's own tables are rewritten whole on each run; no table partition is written again.
    assert {k: v for k, v in after.items() if "=" in k} == {k: v for k, v in before.items() if "=" in k}
    assert set(after) == set(before)

    # A run killed between its commit and the lake write: the next run writes the missing partition.
    lost = next(path for path in lake.glob("calls/export=calls/load_id=*/data.parquet"))
    load_id = lost.parent.name.removeprefix("load_id=")
    lost.unlink()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw._lake_files where raw_table = 'calls' and load_id = ?", [load_id])
    load_landing(warehouse, tiny_landing)
    assert lost.is_file()


def test_a_new_key_rewrites_the_lake(warehouse: Path, tiny_landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_landing(warehouse, tiny_landing)
    lake = warehouse.parent / "lake"
    monkeypatch.setenv("CONTACT_WAREHOUSE_PII_KEY", "another-secret-for-the-lake")
    load_landing(warehouse, tiny_landing)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = f"read_parquet('{lake}/customers/*/*/*.parquet', union_by_name = true)"
        stale = con.execute(
            f"select count(*) from (select customer_ref, customer_ref_node from {files}"
            " except select customer_ref, customer_ref_node from raw.customers)"
        ).fetchone()[0]
        text = str(con.execute(f"select * from {files}").fetchall())
    assert stale == 0 and "another-secret-for-the-lake" not in text


def test_the_lake_can_be_switched_off(warehouse: Path, tiny_landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACT_WAREHOUSE_LAKE", "off")
    load_landing(warehouse, tiny_landing)
    assert not (warehouse.parent / "lake").exists()


def test_dbt_reads_the_same_staging_rows_from_the_lake(
    warehouse: Path, tiny_landing: Path, tmp_path: Path, dbt
) -> None:
    load_landing(warehouse, tiny_landing)
    dbt(["run", "--select", "staging"], warehouse)
    # Another DuckDB file with no raw schema at all: every source row must come from the lake's files.
    elsewhere = tmp_path / "elsewhere" / "warehouse.duckdb"
    elsewhere.parent.mkdir()
    lake = {"CONTACT_WAREHOUSE_LAKE": str(warehouse.parent / "lake")}
    dbt(["run", "--select", "staging", "--vars", "{raw_source: lake}"], elsewhere, extra_env=lake)

    with duckdb.connect(str(elsewhere)) as con:
        con.execute(f"attach '{warehouse}' as built (read_only)")
        no_raw = "select count(*) from information_schema.schemata where catalog_name = current_database()"
        assert con.execute(no_raw + " and schema_name = 'raw'").fetchone() == (0,)
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'built'"
            " and table_schema = 'staging' order by 1"
        ).fetchall()
        # Every staging model was built from the lake (one table each; none is a view).
        assert len(tables) == len(list((DBT_PROJECT_DIR / "models" / "staging").rglob("stg_*.sql")))
        for (name,) in tables:
            counts = con.execute(
                f"select (select count(*) from built.staging.{name}),"
                f" (select count(*) from (select * from built.staging.{name} except all select * from staging.{name})),"
                f" (select count(*) from (select * from staging.{name} except all select * from built.staging.{name}))"
            ).fetchone()
            assert counts[1:] == (0, 0), (name, counts)
            if name in ("stg_phone_system__calls", "stg_crm__customers", "stg_chat__messages"):
                assert counts[0] > 0, name


def test_the_lake_is_written_on_the_warehouses_threads_and_the_loaders_come_back(
    warehouse: Path, tiny_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sync_lake`` writes its Parquet on ``CONTACT_WAREHOUSE_THREADS`` and gives the loader's connection its own
    setting back (one thread: the files' statements, DECISIONS.md)."""
    from contact_warehouse.loading import lake as lake_module
    from contact_warehouse.loading.loader import connect_for_loading, load_export

    monkeypatch.setenv("CONTACT_WAREHOUSE_THREADS", "3")
    seen: list[int] = []
    copy = lake_module._copy

    def copying(con, select: str, target: str) -> int:  # noqa: ANN001 - the lake's own signature
        seen.append(con.execute("select current_setting('threads')").fetchone()[0])
        return copy(con, select, target)

    monkeypatch.setattr(lake_module, "_copy", copying)
    con = connect_for_loading(warehouse)
    try:
        load_export(con, "calls", tiny_landing)
        assert seen and set(seen) == {3}
        assert con.execute("select current_setting('threads')").fetchone()[0] == 1
    finally:
        con.close()
