"""Load tool exports into the ``raw`` schema, with a ledger of files and a quarantine of bad rows.

Guarantees, per file and in one transaction:
- a file already in the ledger (same export, same sha256, loaded or refused) is skipped: loading twice adds nothing;
- a file whose header does not match the export's columns is refused whole and recorded as refused;
- a file that cannot be read at all (not UTF-8, empty JSON document, broken gzip, any unexpected error) is
  refused and recorded with a reason naming it; the other files and exports load on (one file, one refusal);
- every record read is loaded, quarantined (file, line, field, reason) or counted as filtered by a mapping
  profile: read = loaded + rejected + filtered; keys repeated inside one file are counted (``rows_duplicate``)
  and listed in ``raw._duplicate_keys``;
- every loaded row keeps its source file, line, load id and load sequence (the latest load wins in staging);
- a file still being written (modified less than ``CONTACT_WAREHOUSE_SETTLE_SECONDS`` ago, or changed while it
  was read) is left for the next run; a symbolic link resolving outside the landing folder is refused; every
  other file of the landing folder that no export or profile reads is recorded as ``ignored`` with the reason.

Python reads each file once, as a stream (encoding, CSV structure, physical line numbers, record size limit),
and hands DuckDB a clean copy: DuckDB never opens the user's path, so a name with glob characters is read as
itself. Values are parsed and validated inside DuckDB (vectorised).

This module runs one file and one export; the steps live beside it: ``landing`` (which files, and whether they
may be read now), ``scan`` (the Python pass), ``json_records`` (JSON records in DuckDB), ``rules`` (value
checks), ``ledger`` (ledger, quarantine and repeated keys), ``profiles`` and ``conversion`` (mapping profiles).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import tempfile
import zlib
from pathlib import Path

import duckdb

from contact_warehouse.engine.duckdb_settings import connect
from contact_warehouse.engine.sql import sql_literal

from .common import SOURCE_LINE, max_record_bytes, settle_seconds
from .json_records import _stage_json_children, _stage_json_records
from .landing import _admit, _in_progress, _marker_sha, export_files, profile_files, sha256_of, unread_files
from .ledger import (
    LEDGER,
    RETRIED,
    FileResult,
    LoadReport,
    _already_loaded,
    _new_context,
    _quarantine,
    _record_duplicates,
    _record_ledger,
    ensure_raw_schema,
)
from .profiles import discover_profiles
from .rules import _error_cases, _insert_rows, _stage_typed
from .scan import RefusedFileError, _scan_csv
from .sources import EXPORTS_BY_NAME, Export

log = logging.getLogger(__name__)
# load_file and record_file call the ledger's functions by their names in this module: tests replace
# loader._record_duplicates or loader._record_ledger to simulate an out-of-memory error or a killed process.


def connect_for_loading(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A connection the loader writes with: the warehouse's settings (engine/duckdb_settings.py, as dbt's), rows
    kept in file order, and UTC: offsets in the exports are honoured, a timestamp without one is UTC (DECISIONS.md)."""
    return connect(db_path, preserve_insertion_order=True, time_zone="UTC")


def _load_csv(con: duckdb.DuckDBPyConnection, export: Export, path: Path, meta: str, ctx: dict) -> tuple:
    table = export.main_table
    with tempfile.TemporaryDirectory(prefix="contact_warehouse_load_") as tmp:
        clean = Path(tmp) / "records.csv"
        records, bad, has_line_column = _scan_csv(path, ctx["file"], table, clean)
        line_name = SOURCE_LINE if has_line_column else "_line"
        columns = {**{n: "VARCHAR" for n in table.column_names}, line_name: "VARCHAR"}
        spec = "{" + ", ".join(f"{sql_literal(n)}: '{t}'" for n, t in columns.items()) + "}"
        # The file is the clean copy written above (a safe temporary name): well-formed by construction.
        con.execute(
            f"""create or replace temp table _text as
                select * exclude ({line_name}), try_cast({line_name} as bigint) as _line
                from read_csv({sql_literal(str(clean))}, columns = {spec}, header = true, auto_detect = false,
                              delim = ',', quote = '"', escape = '"', max_line_size = {2 * max_record_bytes() + 1024},
                              parallel = false)"""
        )
    con.execute("create or replace temp table _rej (line bigint, field varchar, reason varchar, raw_record varchar)")
    if bad:
        con.executemany("insert into _rej values (?, ?, ?, ?)", bad)
    text = _stage_typed(con, table, "_text")
    err_field, err_reason = _error_cases(table, "t", loaded_at=ctx["at"])
    raw_record = ", ".join(f"coalesce(t.\"{c}\", '')" for c in table.column_names)
    con.execute(
        f"""create or replace temp table _errs as
            select _line, {err_field} as field, {err_reason} as reason, concat_ws(',', {raw_record}) as raw_record
            from {text} t where ({err_field}) is not null"""
    )
    loaded = _insert_rows(con, table, text, "t._line not in (select _line from _errs)", meta)
    rejected = _quarantine(con, export, table, ctx, "select _line, field, reason, raw_record from _errs")
    rejected += _quarantine(con, export, table, ctx, "select line, field, reason, raw_record from _rej")
    return records, loaded, rejected


def _load_json(con: duckdb.DuckDBPyConnection, export: Export, path: Path, meta: str, ctx: dict) -> tuple:
    records = _stage_json_records(con, export, path, ctx["file"])
    staged = _stage_json_children(con, export)
    # The record-level error comes first, then the parent table's, then each child's (priority order).
    error_selects = ["select _line, field, reason, 0 as priority from _bad"]
    staged = [(table, _stage_typed(con, table, temp), prefix) for table, temp, prefix in staged]
    for priority, (table, temp, prefix) in enumerate(staged, start=1):
        err_field, err_reason = _error_cases(table, "t", prefix, loaded_at=ctx["at"])
        error_selects.append(
            f"select _line, {err_field} as field, {err_reason} as reason, {priority} as priority "
            f"from {temp} t where ({err_field}) is not null"
        )
    con.execute(
        f"""create or replace temp table _errs as
            select e._line, arg_min(e.field, e.priority) as field, arg_min(e.reason, e.priority) as reason,
                   coalesce(any_value(r.raw_record), any_value(b.raw_record)) as raw_record
            from ({" union all ".join(error_selects)}) e
            left join _recs r using (_line) left join _bad b using (_line)
            group by e._line"""
    )
    loaded = 0
    for table, temp, _ in staged:
        count = _insert_rows(con, table, temp, "t._line not in (select _line from _errs)", meta)
        if table is export.main_table:
            loaded = count
    rejected = _quarantine(con, export, export.main_table, ctx, "select _line, field, reason, raw_record from _errs")
    return records, loaded, rejected


def _stat_key(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _unchanged(path: Path, before: tuple[int, int]) -> bool:
    try:
        return _stat_key(path) == before
    except OSError:
        return False  # gone while it was read: the next run sees what is there then


def load_file(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    *,
    origin: Path | None = None,
    origin_sha256: str | None = None,
    rows_filtered: int = 0,
) -> FileResult:
    """Load one file of an export in one transaction. ``origin`` names the user's file when ``path`` is a
    canonical conversion of it (mapping profiles), whose filter dropped ``rows_filtered`` of its records; the
    ledger and quarantine always name the user's file. Any failure reading the file refuses it (recorded with
    the reason); it never stops the export."""
    origin = origin or path
    sha = origin_sha256 or sha256_of(origin)
    if _already_loaded(con, export.name, sha):
        return FileResult(export.name, str(origin), sha, "skipped", message="already in the ledger")
    stat_before = _stat_key(origin)
    con.execute("begin transaction")
    try:
        ctx = _new_context(con, str(origin))
        meta = (
            f"{sql_literal(str(origin))}, t._line, {sql_literal(ctx['load_id'])}, {ctx['seq']}, "
            f"{sql_literal(ctx['at'])}::timestamp"
        )
        result = FileResult(export.name, str(origin), sha, "loaded", rows_filtered=rows_filtered)
        try:
            loader = _load_csv if export.format == "csv" else _load_json
            records, result.rows_loaded, result.rows_rejected = loader(con, export, path, meta, ctx)
            result.rows_read = records + rows_filtered
            if records != result.rows_loaded + result.rows_rejected:
                raise AssertionError(
                    f"{origin}: {records} records read but {result.rows_loaded} loaded + "
                    f"{result.rows_rejected} quarantined"
                )
            result.rows_duplicate = _record_duplicates(con, export, ctx)
        except (RefusedFileError, EOFError, gzip.BadGzipFile, zlib.error) as refused:
            message = str(refused)
            if not isinstance(refused, RefusedFileError):
                message = f"{origin}: cannot be decompressed: {type(refused).__name__}: {refused}"
            result = FileResult(export.name, str(origin), sha, "refused", message=message)
            result.message = result.message.replace(str(path), str(origin))
            con.execute("rollback")
            con.execute("begin transaction")
        if not _unchanged(origin, stat_before):
            con.execute("rollback")
            return FileResult(
                export.name, str(origin), sha, "unsettled", message=f"{origin}: changed while it was read; next run"
            )
        _record_ledger(con, ctx, result, stat_before[0])
        con.execute("commit")
        return result
    except Exception as exc:  # noqa: BLE001 - any failure of one file is that file's refusal, never the run's
        if isinstance(exc, duckdb.FatalException):
            raise  # the database is invalidated: nothing more can be recorded
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        # An unexpected error may be transient (memory): unlike a refusal for the file's content, it is
        # retried on the next run (and recorded again).
        reason = f"{origin}: {RETRIED}: {type(exc).__name__}: {exc}"
        return record_file(con, export.name, origin, sha, "refused", reason.replace(str(path), str(origin)))


def record_file(
    con: duckdb.DuckDBPyConnection, export: str, path: Path, sha: str, status: str, reason: str
) -> FileResult:
    """Record a file that is not loaded (refused before reading, or ignored) in a transaction of its own."""
    try:
        size = path.lstat().st_size
    except OSError:
        size = None
    result = FileResult(export, str(path), sha, status, message=reason)
    con.execute("begin transaction")
    try:
        _record_ledger(con, _new_context(con, str(path)), result, size)  # type: ignore[arg-type]
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def _load_landed(
    con: duckdb.DuckDBPyConnection, export: Export, path: Path, landing: Path, settle: float
) -> FileResult:
    try:
        verdict = _admit(path, landing, settle)
        if verdict is not None and verdict[0] == "unsettled":
            return FileResult(export.name, str(path), "", "unsettled", message=verdict[1])
        sha = _marker_sha("link", path) if verdict is not None else sha256_of(path)
    except OSError as exc:
        verdict, sha = ("refused", f"{path}: cannot be read: {exc}"), _marker_sha("unreadable", path)
    if verdict is not None:
        if _already_loaded(con, export.name, sha):
            return FileResult(export.name, str(path), sha, "skipped", message="already in the ledger")
        return record_file(con, export.name, path, sha, *verdict)
    return load_file(con, export, path, origin_sha256=sha)


def load_export(
    con: duckdb.DuckDBPyConnection, export_name: str, landing: Path, profiles_dir: Path | None = None
) -> LoadReport:
    """Load every new file of one export from the landing folder, plus foreign files through profiles, and
    record the landing folder's files that nothing reads as ignored."""
    export = EXPORTS_BY_NAME[export_name]
    ensure_raw_schema(con)
    settle = settle_seconds()
    report = LoadReport(export_name)
    for path in export_files(landing, export):
        report.files.append(_load_landed(con, export, path, landing, settle))
    folder = landing / export.name
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if _in_progress(path.name):
            reason = f"{path}: its name says it is still being written ({path.suffix}): next run"
            report.files.append(FileResult(export.name, str(path), "", "unsettled", message=reason))
    if profiles_dir is not None and profiles_dir.is_dir():
        report.files.extend(_load_through_profiles(con, export, landing, profiles_dir, settle))
    report.files.extend(record_ignored(con, landing, profiles_dir))
    for result in report.files:
        if result.status in ("refused", "unsettled"):
            log.warning("%s file: %s", result.status.capitalize(), result.message)
        elif result.status == "ignored":
            log.info("Ignored file: %s", result.message)
    return report


def _load_through_profiles(
    con: duckdb.DuckDBPyConnection, export: Export, landing: Path, profiles_dir: Path, settle: float
) -> list[FileResult]:
    # pandas is imported only when a mapping profile converts a file.
    from .conversion import ForeignFileError, convert_counted

    results = []
    for profile in discover_profiles(profiles_dir):
        if export.name not in profile.targets:
            continue
        for src in profile_files(landing, profile):
            try:
                verdict = _admit(src, landing, settle)
                if verdict is not None and verdict[0] == "unsettled":
                    results.append(FileResult(export.name, str(src), "", "unsettled", message=verdict[1]))
                    continue
                sha = _marker_sha("link", src) if verdict is not None else sha256_of(src)
            except OSError as exc:
                verdict, sha = ("refused", f"{src}: cannot be read: {exc}"), _marker_sha("unreadable", src)
            if _already_loaded(con, export.name, sha):
                results.append(FileResult(export.name, str(src), sha, "skipped", message="already in the ledger"))
                continue
            if verdict is not None:
                results.append(record_file(con, export.name, src, sha, *verdict))
                continue
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    converted, foreign_rows, kept = convert_counted(profile, src, Path(tmp))
                except ForeignFileError as refused:
                    results.append(record_file(con, export.name, src, sha, "refused", str(refused)))
                    continue
                except Exception as exc:  # noqa: BLE001 - one unreadable foreign file is its own refusal
                    reason = f"{src}: mapping profile '{profile.name}' cannot convert it: {type(exc).__name__}: {exc}"
                    results.append(record_file(con, export.name, src, sha, "refused", reason))
                    continue
                filtered = foreign_rows - kept[export.name]
                results.append(
                    load_file(
                        con, export, converted[export.name], origin=src, origin_sha256=sha, rows_filtered=filtered
                    )
                )
    return results


def record_ignored(con: duckdb.DuckDBPyConnection, landing: Path, profiles_dir: Path | None) -> list[FileResult]:
    """Record each unread file of the landing folder once as ``ignored`` (again when its size changes)."""
    results = []
    for label, path, reason in unread_files(landing, profiles_dir):
        try:
            size = path.lstat().st_size
            known = con.execute(
                f"select count(*) from {LEDGER} where status = 'ignored' and file_path = ? and file_bytes = ?",
                [str(path), size],
            ).fetchone()[0]
            if known:
                continue
            sha = _marker_sha("link", path) if path.is_symlink() else sha256_of(path)
        except OSError:
            sha = _marker_sha("unreadable", path)
        results.append(record_file(con, label, path, sha, "ignored", reason))
    return results
