"""A file's records staged for the raw tables (``stage_file``): its accepted rows appended to a temp table per raw
table (shared by the files of a batch), its rejected records quarantined with file, line, field and reason; or the
file refused for its content (``refused_for_content``). ``loader`` commits them."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import duckdb

from contact_warehouse.engine.sql import sql_literal

from .common import RAW_SCHEMA
from .csv_stage import force_rejections, stage_csv
from .json_records import force_json_rejections, stage_json
from .ledger import FileResult, _quarantine
from .rules import _insert_rows
from .scan import RefusedFileError
from .sources import Export

# A file refused for what it holds (recorded, not retried); any other failure is retried next run.
CONTENT_REFUSALS = (RefusedFileError, EOFError, gzip.BadGzipFile, zlib.error)


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


def stage_file(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    result: FileResult,
    ctx: dict,
    origin: Path | None = None,
    forced: dict[int, tuple[str, str]] | None = None,
    line_map: dict[int, int] | None = None,
) -> None:
    """Stage one file's rows and quarantine its rejected records (``file_rows``), named after ``origin`` (the user's
    file a mapping profile converted into ``path``); the counts go into ``result``, whose ``rows_filtered`` the
    profile's filter dropped. Shared by ``loader.load_file`` and a batch (``loader._stage_batch``)."""
    origin = origin or path
    meta = (
        f"{sql_literal(str(origin))}, t._line, {sql_literal(ctx['load_id'])}, {ctx['seq']}, "
        f"{sql_literal(ctx['at'])}::timestamp"
    )
    if export.format == "csv":
        records, result.rows_loaded, result.rows_rejected = load_csv_rows(con, export, path, meta, ctx, forced)
    else:
        loaded_json = load_json_rows(con, export, path, meta, ctx, forced, line_map)
        records, result.rows_loaded, result.rows_rejected = loaded_json
    result.rows_read = records + result.rows_filtered
    if records != result.rows_loaded + result.rows_rejected:
        raise AssertionError(
            f"{origin}: {records} records read but {result.rows_loaded} loaded + {result.rows_rejected} quarantined"
        )


def refused_for_content(
    export: Export, path: Path, origin: Path, sha: str, refused: Exception, profile: str | None = None
) -> FileResult:
    """A file refused for its content (``CONTENT_REFUSALS``), its reason naming the user's file ``origin``."""
    message = str(refused)
    if not isinstance(refused, RefusedFileError):
        message = f"{origin}: cannot be decompressed: {type(refused).__name__}: {refused}"
    message = message.replace(str(path), str(origin))
    return FileResult(export.name, str(origin), sha, "refused", message=message, profile=profile)
