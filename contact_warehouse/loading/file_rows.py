"""A file's records staged for the raw tables: its accepted rows appended to a temp table per raw table (shared by
the files of a batch), its rejected records quarantined with file, line, field and reason. ``loader`` commits them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from .common import RAW_SCHEMA
from .csv_stage import force_rejections, stage_csv
from .json_records import force_json_rejections, stage_json
from .ledger import _quarantine
from .rules import _insert_rows
from .sources import Export


def new_rows_table(con: duckdb.DuckDBPyConnection, table: str, ctx: dict) -> str:
    """An empty temp table with the raw table's columns, for the file's accepted rows: they are enriched and their
    repeated keys counted there, then appended to the raw table in one insert. Each step so reads this file's
    rows only, not a scan or UPDATE of the whole raw table per file, whose cost grew with the history (issue 22).
    In a batch (``loader._load_batch``) the files share the table: made by the first, appended to by the others."""
    staged = ctx.setdefault("staged", {})
    if table not in staged:
        name = f"_new_{table}"
        con.execute(f"create or replace temp table {name} as select * from {RAW_SCHEMA}.{table} limit 0")
        staged[table] = name
    return staged[table]


def load_csv_rows(
    con: duckdb.DuckDBPyConnection, export: Export, path: Path, meta: str, ctx: dict, forced: dict | None = None
) -> tuple:
    table = export.main_table
    records, text = stage_csv(con, table, path, ctx["file"], ctx["at"])
    force_rejections(con, table, text, forced or {})
    target = new_rows_table(con, table.name, ctx)
    loaded = _insert_rows(con, table, text, "t._line not in (select _line from _errs)", meta, target)
    rejected = _quarantine(con, export, table, ctx, "select _line, field, reason, raw_record from _errs")
    rejected += _quarantine(con, export, table, ctx, "select line, field, reason, raw_record from _rej")
    return records, loaded, rejected


def load_json_rows(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    meta: str,
    ctx: dict,
    forced: dict | None = None,
    line_map: dict | None = None,
) -> tuple:
    records, staged = stage_json(con, export, path, ctx["file"], ctx["at"], line_map)
    force_json_rejections(con, forced or {})
    loaded = 0
    for table, temp, _ in staged:
        target = new_rows_table(con, table.name, ctx)
        count = _insert_rows(con, table, temp, "t._line not in (select _line from _errs)", meta, target)
        if table is export.main_table:
            loaded = count
    rejected = _quarantine(con, export, export.main_table, ctx, "select _line, field, reason, raw_record from _errs")
    return records, loaded, rejected
