"""The Parquet lake: every raw table's accepted rows as Parquet files that any engine reads (issue 21).

Layout, under the lake root (``CONTACT_WAREHOUSE_LAKE``; default ``lake/`` beside the warehouse file; a URL such
as ``s3://bucket/lake`` where DuckDB can write it, credentials configured in DuckDB as usual)::

    <root>/<raw table>/export=<export>/load_id=<load id>/data.parquet   one file per load and table
    <root>/<raw table>/export=none/load_id=none/data.parquet            no rows: the table's columns, for readers
    <root>/_load_ledger/data.parquet (and _quarantine, _duplicate_keys)  the loader's own tables, whole

(Spark skips a file whose name starts with `_`: those tables are folders holding `data.parquet`.)

The raw tables in the DuckDB file stay the loader's working copy (validation, ledger, quarantine and the
enriched columns are computed there, in the file's transaction); ``sync_lake`` then writes every load not yet in
the lake. ``raw._lake_files`` remembers what was written (per lake root, table and load, with the table's
enrichment fingerprint): a re-run writes nothing new, a crash between the commit and the write is repaired by the
next run, and a table enriched again (a new key or phone region) is rewritten whole.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from contact_warehouse.engine.duckdb_settings import threads
from contact_warehouse.engine.sql import sql_literal

from .common import DUPLICATES, LEDGER, QUARANTINE, RAW_SCHEMA
from .sources import EXPORTS_BY_NAME

log = logging.getLogger(__name__)

LAKE_ENV = "CONTACT_WAREHOUSE_LAKE"
LAKE_OFF = "off"
LAKE_FILES = f"{RAW_SCHEMA}._lake_files"
EMPTY_PARTITION = "none"
LOADER_TABLES = (LEDGER, QUARANTINE, DUPLICATES)


def lake_root(database: Path | str | None) -> str | None:
    """The lake's root: the setting, else ``lake`` beside ``database``; None when the setting is ``off`` or the
    warehouse is in memory without a setting."""
    configured = os.environ.get(LAKE_ENV, "").strip()
    if configured.lower() == LAKE_OFF:
        return None
    if configured:
        return configured.rstrip("/")
    if database is None or str(database) in ("", ":memory:"):
        return None
    return str(Path(database).parent / "lake")


def is_url(root: str) -> bool:
    return "://" in root


def partition_path(root: str, table: str, export: str, load_id: str) -> str:
    return f"{root}/{table}/export={export}/load_id={load_id}/data.parquet"


def _copy(con: Any, select: str, target: str) -> int:
    """Write ``select`` to ``target`` as one Parquet file; return the rows written (COPY's result). A local file is
    written beside and renamed, so a reader never sees half a file; an object store's upload is atomic already."""
    if is_url(target):
        return con.execute(f"copy ({select}) to {sql_literal(target)} (format parquet)").fetchone()[0]
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    rows = con.execute(f"copy ({select}) to {sql_literal(str(partial))} (format parquet)").fetchone()[0]
    os.replace(partial, path)
    return rows


def _fingerprint(con: Any, table: str) -> str:
    row = con.execute(f"select fingerprint from {RAW_SCHEMA}._enrichment where raw_table = ?", [table]).fetchone()
    return row[0] if row else ""


def sync_lake(con: Any, export_names: list[str], root: str) -> int:
    """Write to the lake every load of the exports' raw tables that it lacks (or holds with other enrichment),
    and the loader's own tables whole. Returns the number of files written."""
    con.execute(
        f"""create table if not exists {LAKE_FILES} (lake varchar, raw_table varchar, load_id varchar,
            file_path varchar, rows_written bigint, fingerprint varchar, written_at timestamp)"""
    )
    # Parquet is written on the warehouse's threads, the one step of a load that a second thread speeds up
    # (DECISIONS.md "The lake's Parquet written on the warehouse's threads"); the caller's setting comes back after.
    ((caller_threads,),) = con.execute("select current_setting('threads')").fetchall()
    con.execute(f"set threads = {threads()}")
    try:
        written = 0
        for name in export_names:
            for table in EXPORTS_BY_NAME[name].tables:
                written += _sync_table(con, name, table.name, root)
        for qualified in LOADER_TABLES:
            table = qualified.split(".", 1)[1]
            _copy(con, f"select * from {qualified}", f"{root}/{table}/data.parquet")
            written += 1
    finally:
        con.execute(f"set threads = {caller_threads}")
    return written


def _sync_table(con: Any, export: str, table: str, root: str) -> int:
    fingerprint = _fingerprint(con, table)
    done = {
        load_id
        for (load_id,) in con.execute(
            f"select load_id from {LAKE_FILES} where lake = ? and raw_table = ? and fingerprint = ?",
            [root, table, fingerprint],
        ).fetchall()
    }
    # The loads not yet written are found in the ledger (one row per file), and only those are looked up in the raw
    # table: a distinct over the whole table per export and run cost what the history costs (issue 22). A load
    # with no row in this table has no file, as before.
    pending = [
        load_id
        for (load_id,) in con.execute(
            f"select distinct load_id from {LEDGER} where export = ? and status = 'loaded' order by 1", [export]
        ).fetchall()
        if load_id not in done
    ]
    with_rows: list[str] = []
    if pending:
        con.execute("create or replace temp table _lake_pending as select unnest(?::varchar[]) as load_id", [pending])
        with_rows = [
            load_id
            for (load_id,) in con.execute(
                f"select distinct _load_id from {RAW_SCHEMA}.{table} where _load_id in "
                "(select load_id from _lake_pending) order by 1"
            ).fetchall()
        ]
    loads = [EMPTY_PARTITION, *with_rows]
    files: list[tuple[str, str, int]] = []  # (load id, file, rows) written
    try:
        for load_id in loads:
            if load_id in done:
                continue
            if load_id == EMPTY_PARTITION:
                target = partition_path(root, table, EMPTY_PARTITION, EMPTY_PARTITION)
                select = f"select * from {RAW_SCHEMA}.{table} limit 0"
            else:
                target = partition_path(root, table, export, load_id)
                # In line order, as loaded: a reader sees the rows as the DuckDB table holds them.
                select = (
                    f"select * from {RAW_SCHEMA}.{table} where _load_id = {sql_literal(load_id)} order by _source_line"
                )
            files.append((load_id, target, _copy(con, select, target)))
    finally:
        _remember(con, root, table, fingerprint, files)  # what was written, even when a later file failed
    if files:
        log.info("Lake: wrote %d file(s) of raw.%s to %s", len(files), table, root)
    return len(files)


def _remember(con: Any, root: str, table: str, fingerprint: str, files: list[tuple[str, str, int]]) -> None:
    """Record the files written in ``raw._lake_files``: one delete and one insert for all of them (two statements per
    file were ~1 s of a medium landing's load, issue 22)."""
    if not files:
        return
    load_ids, targets, rows = (list(column) for column in zip(*files, strict=True))
    con.execute(
        f"delete from {LAKE_FILES} where lake = ? and raw_table = ? and load_id in (select unnest(?::varchar[]))",
        [root, table, load_ids],
    )
    con.execute(
        f"""insert into {LAKE_FILES}
            select ?, ?, unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::bigint[]), ?, now()::timestamp""",
        [root, table, load_ids, targets, rows, fingerprint],
    )
