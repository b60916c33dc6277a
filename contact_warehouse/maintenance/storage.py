"""The warehouse's deleted rows: measured per table, and removed from the tables where they pass a share.

The warehouse's writers (the loader, dbt) run without DuckDB's vacuum (``engine/duckdb_settings.py``): a row the
night deletes (every row of a customer rebuilt by a model incremental by customer) stays stored in its row group,
marked deleted, and every scan of the table still reads it. ``table_storage`` counts them from DuckDB's catalog (a
table's ``estimated_size`` is its stored rows, deleted ones included; ``count(*)`` its live rows);
``vacuum_warehouse`` rewrites each table whose deleted rows pass ``min_deleted_share`` of its stored rows and at least
``min_deleted_rows``: its live rows copied aside, every row deleted, the copy inserted back, in one transaction, then
a checkpoint, which drops the row groups left without a live row. The table keeps its name, columns, comments and
constraints, and a reader sees the same rows before and after. Run as the nightly job's step after the publication (the
``warehouse/storage`` asset) and by hand (``contact-warehouse vacuum``). DECISIONS.md "The nightly run without
DuckDB's vacuum" has the measurements behind the defaults.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from contact_warehouse.engine.duckdb_settings import connect
from contact_warehouse.engine.sql import sql_identifier

# A table is rewritten once half of its stored rows are deleted ones: the rewrite costs what the table's live rows
# cost, whatever the share, and a night's queries cost no more with a third of dead rows than with none, so the
# rarer the better while the file stays bounded (DECISIONS.md "The nightly run without DuckDB's vacuum": at 0.3 the
# rewrites ate the nightly gain over six nights at 120 days).
DEFAULT_MIN_DELETED_SHARE = 0.5
# ... and they fill at least one of DuckDB's row groups (122,880 rows): fewer cost the scans nothing worth a rewrite.
DEFAULT_MIN_DELETED_ROWS = 122_880


@dataclass(frozen=True)
class TableStorage:
    schema: str
    name: str
    stored_rows: int
    live_rows: int

    @property
    def qualified(self) -> str:
        return f"{sql_identifier(self.schema)}.{sql_identifier(self.name)}"

    @property
    def deleted_rows(self) -> int:
        return max(0, self.stored_rows - self.live_rows)

    @property
    def deleted_share(self) -> float:
        return self.deleted_rows / self.stored_rows if self.stored_rows else 0.0


@dataclass
class VacuumResult:
    database: Path
    before: list[TableStorage]
    rewritten: list[TableStorage] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    file_bytes_before: int = 0
    file_bytes_after: int = 0

    @property
    def deleted_rows_before(self) -> int:
        return sum(table.deleted_rows for table in self.before)

    @property
    def deleted_rows_removed(self) -> int:
        return sum(table.deleted_rows for table in self.rewritten)


def table_storage(con: Any) -> list[TableStorage]:
    """Stored and live rows of every base table of the connection's database, largest first."""
    tables = con.execute(
        "select schema_name, table_name, estimated_size from duckdb_tables() "
        "where database_name = current_database() and not temporary order by estimated_size desc, 1, 2"
    ).fetchall()
    result = []
    for schema, name, stored in tables:
        table = TableStorage(schema, name, int(stored or 0), live_rows=0)
        (live,) = con.execute(f"select count(*) from {table.qualified}").fetchone()
        result.append(replace(table, live_rows=int(live)))
    return result


def needs_rewrite(table: TableStorage, min_deleted_share: float, min_deleted_rows: int) -> bool:
    return (
        table.deleted_rows > 0 and table.deleted_rows >= min_deleted_rows and table.deleted_share >= min_deleted_share
    )


def rewrite_table(con: Any, table: TableStorage) -> None:
    """The table's live rows only, in one transaction: a reader sees the old rows or the same rows rewritten."""
    aside = "_vacuum_live_rows"
    con.execute("begin")
    try:
        con.execute(f"create or replace temp table {aside} as select * from {table.qualified}")
        con.execute(f"delete from {table.qualified}")
        con.execute(f"insert into {table.qualified} select * from {aside}")
        con.execute(f"drop table {aside}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def vacuum_warehouse(
    database: Path | str,
    *,
    min_deleted_share: float = DEFAULT_MIN_DELETED_SHARE,
    min_deleted_rows: int = DEFAULT_MIN_DELETED_ROWS,
    dry_run: bool = False,
) -> VacuumResult:
    """Rewrite the tables of ``database`` whose deleted rows pass both limits (``min_deleted_share`` 0 and
    ``min_deleted_rows`` 1: every table with a deleted row), then checkpoint. ``dry_run``: measure only. The caller
    holds the warehouse lock (no other writer)."""
    path = Path(database)
    # process_time: user + system CPU of this process, DuckDB's threads included.
    started_cpu, started = time.process_time(), time.monotonic()
    result = VacuumResult(path, [], file_bytes_before=path.stat().st_size)
    # Without DuckDB's own vacuum, as every writer of the warehouse: the checkpoint drops the emptied row groups
    # whatever the setting, and would otherwise also merge row groups of the tables not rewritten.
    con = connect(path, preserve_insertion_order=True, vacuum=False)
    try:
        con.execute("set enable_progress_bar = false")
        result.before = table_storage(con)
        if not dry_run:
            for table in result.before:
                if needs_rewrite(table, min_deleted_share, min_deleted_rows):
                    rewrite_table(con, table)
                    result.rewritten.append(table)
            if result.rewritten:
                con.execute("checkpoint")
    finally:
        con.close()
    result.file_bytes_after = path.stat().st_size
    result.cpu_seconds = round(time.process_time() - started_cpu, 2)
    result.wall_seconds = round(time.monotonic() - started, 2)
    return result


def describe(result: VacuumResult, *, limit: int = 10) -> str:
    """Lines for a log: what was rewritten, and the tables with the most deleted rows."""
    lines = [
        f"{result.database}: {result.deleted_rows_before:,} deleted rows stored in "
        f"{sum(t.deleted_rows > 0 for t in result.before)} tables; {len(result.rewritten)} tables rewritten "
        f"({result.deleted_rows_removed:,} deleted rows removed) in {result.cpu_seconds} s CPU, "
        f"{result.wall_seconds} s; file {result.file_bytes_before / 2**20:,.1f} -> "
        f"{result.file_bytes_after / 2**20:,.1f} MiB"
    ]
    rewritten = {(t.schema, t.name) for t in result.rewritten}
    worst = sorted((t for t in result.before if t.deleted_rows), key=lambda t: -t.deleted_rows)[:limit]
    for table in worst:
        mark = "rewritten" if (table.schema, table.name) in rewritten else "kept"
        lines.append(
            f"  {table.schema}.{table.name}: {table.deleted_rows:,} deleted of {table.stored_rows:,} stored "
            f"({table.deleted_share:.0%}), {mark}"
        )
    return "\n".join(lines)
