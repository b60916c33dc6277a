"""Load tool exports into the ``raw`` schema, with a ledger of files and a quarantine of bad rows.

Guarantees, per file, its rows, quarantine and ledger row committed together (one transaction per file, or per
batch of an export's new files, ``_load_batch``; a batch that fails loads file by file):
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
itself. A plain CSV file (no quote, CR or blank line; ``csv_fast``) is checked whole at C speed and handed over
as it is, one record per line. Values are parsed and validated inside DuckDB (vectorised). A file's accepted rows
are enriched and their repeated keys counted in a temp table, then appended to the raw table in one insert: no
step of a file's own load scans or updates the whole raw table, whose cost grew with the history.

This module runs one file and one export; the steps live beside it: ``landing`` (which files, and whether they
may be read now), ``scan`` (the Python pass), ``csv_fast`` (the plain CSV's check), ``json_records`` (JSON
records in DuckDB), ``rules`` (value checks), ``file_rows`` (a file's rows staged), ``ledger`` (ledger, quarantine
and repeated keys), ``profiles`` and ``conversion`` (mapping profiles).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path

import duckdb

from contact_warehouse.engine.duckdb_settings import connect, loading_threads
from contact_warehouse.enrichment.apply import database_path, enrich_rows, enricher_for, prepare_tables
from contact_warehouse.enrichment.columns import Enricher
from contact_warehouse.enrichment.functions import clear_caches

from .common import QUARANTINE, RAW_SCHEMA, load_batch_bytes, settle_seconds
from .file_hashes import FileHashes
from .file_rows import CONTENT_REFUSALS, refused_for_content, stage_file
from .lake import lake_root, sync_lake
from .landing import _admit, _in_progress, _marker_sha, export_files, profile_files, sha256_of, unread_files
from .ledger import (
    LEDGER,
    RETRIED,
    FileResult,
    LoadReport,
    _already_loaded,
    _final_shas,
    _new_context,
    _record_duplicates,
    _record_ledger,
    ensure_raw_schema,
)
from .profiles import discover_profiles
from .sources import EXPORTS_BY_NAME, Export

log = logging.getLogger(__name__)
# load_file and record_file call the ledger's functions by their names in this module: tests replace
# loader._record_duplicates or loader._record_ledger to simulate an out-of-memory error or a killed process.


def connect_for_loading(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A connection the loader writes with: the warehouse's settings (engine/duckdb_settings.py, as dbt's), rows
    kept in file order, and UTC: offsets in the exports are honoured, a timestamp without one is UTC (DECISIONS.md).
    Without DuckDB's vacuum, as dbt's: its checkpoint would otherwise vacuum what last night's dbt deleted. On
    ``loading_threads()`` DuckDB threads (default 1): each statement reads one file's rows."""
    con = connect(db_path, preserve_insertion_order=True, time_zone="UTC", vacuum=False)
    con.execute(f"set threads = {loading_threads()}")
    return con


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
    profile: str | None = None,
    forced: dict[int, tuple[str, str]] | None = None,
    line_map: dict[int, int] | None = None,
    enricher: Enricher | None = None,
) -> FileResult:
    """Load one file of an export in one transaction. ``origin`` names the user's file when ``path`` is a
    canonical conversion of it by mapping profile ``profile``, whose filter dropped ``rows_filtered`` of its
    records and which rejects the ``forced`` source lines (field, reason) in every target; the ledger and
    quarantine always name the user's file. Any failure reading the file refuses it (recorded with the
    reason); it never stops the export."""
    origin = origin or path
    sha = origin_sha256 or sha256_of(origin)
    if _already_loaded(con, export.name, sha, profile):
        return FileResult(export.name, str(origin), sha, "skipped", message="already in the ledger")
    stat_before = _stat_key(origin)
    # Enriched columns (E.164 phones, identifier hashes, sentiment) of the export's raw tables: added, or redone
    # for every row when the key or phone region changed, before this file's rows join them.
    # ``enricher`` given: load_export prepared the tables with it for all its files (5 statements a file fewer).
    if enricher is None:
        enricher = enricher_for(con)
        prepare_tables(con, [table.name for table in export.tables], enricher)
    con.execute("begin transaction")
    try:
        ctx = _new_context(con, str(origin))
        result = FileResult(export.name, str(origin), sha, "loaded", rows_filtered=rows_filtered, profile=profile)
        try:
            stage_file(con, export, path, result, ctx, origin, forced, line_map)
            for table in export.tables:
                enrich_rows(con, table.name, "true", enricher, relation=ctx["staged"][table.name])
            result.rows_duplicate = _record_duplicates(con, export, ctx)
            for table in export.tables:
                # By name: the temp table was made from the raw table's columns, whatever their order.
                con.execute(f"insert into {RAW_SCHEMA}.{table.name} by name select * from {ctx['staged'][table.name]}")
        except CONTENT_REFUSALS as refused:
            result = refused_for_content(export, path, origin, sha, refused, profile)
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
        reason = reason.replace(str(path), str(origin))
        return record_file(con, export.name, origin, sha, "refused", reason, profile)


class _Batch:
    """An export's new files, gathered in name order and loaded together (``_load_batch``) once they reach
    ``load_batch_bytes()`` landed bytes, or before anything else is recorded (a refusal keeps its place in the
    load sequence). A single file, or a batch that fails, loads file by file (``load_file``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, export: Export, enricher: Enricher, report: LoadReport) -> None:
        self.con, self.export, self.enricher, self.report = con, export, enricher, report
        self.limit = load_batch_bytes()
        self.files: list[tuple[Path, str]] = []
        self.bytes = 0
        # The files made final in this run (loaded, or refused for their content): the same bytes again are skipped,
        # as load_file's ledger query finds them.
        self.final: set[str] = set()

    def add(self, path: Path, sha: str) -> None:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # load_file says why it cannot be read
        if self.files and self.bytes + size > self.limit:
            self.flush()
        self.files.append((path, sha))
        self.bytes += size

    def flush(self) -> None:
        files, self.files, self.bytes = self.files, [], 0
        results = None
        if len(files) > 1 and self.limit:
            results = _load_batch(self.con, self.export, files, self.enricher, self.final)
        if results is None:
            results = [
                load_file(self.con, self.export, p, origin_sha256=sha, enricher=self.enricher) for p, sha in files
            ]
        self.report.files.extend(results)
        for result in results:
            if result.status == "loaded" or result.status == "refused" and RETRIED not in result.message:
                self.final.add(result.sha256)


class _FileChanged(Exception):
    """A file of a batch changed while it was read: the batch is loaded file by file, which leaves that one out."""


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    files: list[tuple[Path, str]],
    enricher: Enricher,
    final: set[str] | frozenset[str] = frozenset(),
) -> list[FileResult] | None:
    """Load canonical files of one export together: each file staged, checked and quarantined as ``load_file`` does
    it (its own load id, sequence, time, lines and quarantine), its accepted rows and quarantined records gathered
    in temp tables; then the new rows enriched and, in one transaction, their repeated keys listed, appended to the
    raw tables and the quarantine, and one ledger row per file. What costs per statement is paid once per batch,
    not per file (issue 22). A file refused for its content is recorded as refused, the others load; any other
    failure, or a file that changed while it was read, leaves nothing written and returns None (the files then load
    one by one, each in its own transaction, as before)."""
    try:
        return _stage_batch(con, export, files, enricher, final)
    except Exception as exc:  # noqa: BLE001 - the batch's failure is judged file by file (load_file)
        if isinstance(exc, duckdb.FatalException):
            raise
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")  # when the failure came inside the batch's transaction
        log.info("%s: a batch of %d files failed (%s: %s): loading them one by one", export.name, len(files),
                 type(exc).__name__, exc)  # fmt: skip
        return None


def _stage_batch(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    files: list[tuple[Path, str]],
    enricher: Enricher,
    final: set[str] | frozenset[str] = frozenset(),
) -> list[FileResult]:
    # The files are staged outside a transaction: their statements touch temp tables only, and a temp table replaced
    # inside a transaction keeps its old rows until the commit (each file's staging tables would add up in memory).
    staged: dict[str, str] = {}  # shared by the files' contexts: file_rows.new_rows_table makes each table once
    con.execute(f"create or replace temp table _new_quarantine as select * from {QUARANTINE} limit 0")
    seq = con.execute(f"select coalesce(max(load_seq), 0) from {LEDGER}").fetchone()[0]
    done = set(final)
    recorded: list[tuple[dict | None, FileResult, int]] = []
    for path, sha in files:
        if sha in done:  # the same bytes again in this run: the first is final (loaded or refused)
            recorded.append(
                (None, FileResult(export.name, str(path), sha, "skipped", message="already in the ledger"), 0)
            )
            continue
        stat_before = _stat_key(path)
        seq += 1
        ctx = {**_new_context(con, str(path), seq), "staged": staged, "quarantine": "_new_quarantine"}
        result = FileResult(export.name, str(path), sha, "loaded")
        try:
            stage_file(con, export, path, result, ctx)
        except CONTENT_REFUSALS as refused:
            result = refused_for_content(export, path, path, sha, refused)
            # A refusal comes before the file's rows are kept; whatever it kept goes with it, as a rollback would.
            for name in [*staged.values(), "_new_quarantine"]:
                con.execute(f"delete from {name} where {'load_id' if name == '_new_quarantine' else '_load_id'} = ?",
                            [ctx["load_id"]])  # fmt: skip
        if not _unchanged(path, stat_before):
            raise _FileChanged(str(path))
        done.add(sha)
        recorded.append((ctx, result, stat_before[0]))
    for table in staged:
        enrich_rows(con, table, "true", enricher, relation=staged[table])
    con.execute("begin transaction")
    repeats: dict[str, int] = {}
    if staged:
        loads = [ctx["load_id"] for ctx, result, _ in recorded if ctx is not None and result.status == "loaded"]
        batch_ctx = {"batch": loads, "staged": staged}
        _record_duplicates(con, export, batch_ctx)
        repeats = batch_ctx["repeats"]
        for table in export.tables:
            con.execute(f"insert into {RAW_SCHEMA}.{table.name} by name select * from {staged[table.name]}")
    con.execute(f"insert into {QUARANTINE} select * from _new_quarantine")
    for ctx, result, size in recorded:
        if ctx is not None:
            if result.status == "loaded":
                result.rows_duplicate = repeats.get(ctx["load_id"], 0)
            _record_ledger(con, ctx, result, size)
    con.execute("commit")
    return [result for _, result, _ in recorded]


def record_file(
    con: duckdb.DuckDBPyConnection,
    export: str,
    path: Path,
    sha: str,
    status: str,
    reason: str,
    profile: str | None = None,
) -> FileResult:
    """Record a file that is not loaded (refused before reading, or ignored) in a transaction of its own."""
    try:
        size = path.lstat().st_size
    except OSError:
        size = None
    result = FileResult(export, str(path), sha, status, message=reason, profile=profile)
    con.execute("begin transaction")
    try:
        _record_ledger(con, _new_context(con, str(path)), result, size)  # type: ignore[arg-type]
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def _admitted(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    landing: Path,
    settle: float,
    final: frozenset[str],
    hashes: FileHashes,
) -> FileResult | str:
    """A landed file's sha256 when it is to be loaded; else its result (unsettled, skipped, or refused and
    recorded: a link out of the landing folder, an unreadable file)."""
    try:
        verdict = _admit(path, landing, settle)
        if verdict is not None and verdict[0] == "unsettled":
            return FileResult(export.name, str(path), "", "unsettled", message=verdict[1])
        sha = _marker_sha("link", path) if verdict is not None else hashes.sha256(path)
    except OSError as exc:
        verdict, sha = ("refused", f"{path}: cannot be read: {exc}"), _marker_sha("unreadable", path)
    if verdict is not None:
        if _already_loaded(con, export.name, sha):
            return FileResult(export.name, str(path), sha, "skipped", message="already in the ledger")
        return record_file(con, export.name, path, sha, *verdict)
    if sha in final:
        # Known final from the ledger read once per export: no query per file of the history each night.
        return FileResult(export.name, str(path), sha, "skipped", message="already in the ledger")
    return sha


def load_export(
    con: duckdb.DuckDBPyConnection, export_name: str, landing: Path, profiles_dir: Path | None = None
) -> LoadReport:
    """Load every new file of one export from the landing folder, plus foreign files through profiles, and
    record the landing folder's files that nothing reads as ignored."""
    export = EXPORTS_BY_NAME[export_name]
    ensure_raw_schema(con)
    # A warehouse loaded before the enriched columns existed, or with another key or phone region, is enriched
    # again even when no file is new: an analyst's `dbt build` then reads consistent columns.
    enricher = enricher_for(con)
    prepare_tables(con, [table.name for table in export.tables], enricher)
    settle = settle_seconds()
    report = LoadReport(export_name)
    final = _final_shas(con, export.name)
    # A landed file is read (hashed) once, not every night: its hash is remembered with its status (file_hashes.py).
    hashes = FileHashes.read(con)
    batch = _Batch(con, export, enricher, report)
    for path in export_files(landing, export):
        admitted = _admitted(con, export, path, landing, settle, final, hashes)
        if isinstance(admitted, FileResult):
            batch.flush()  # a refusal recorded now takes its load sequence after the files before it
            report.files.append(admitted)
        else:
            batch.add(path, admitted)
    batch.flush()
    folder = landing / export.name
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if _in_progress(path.name):
            reason = f"{path}: its name says it is still being written ({path.suffix}): next run"
            report.files.append(FileResult(export.name, str(path), "", "unsettled", message=reason))
    if profiles_dir is not None and profiles_dir.is_dir():
        report.files.extend(_load_through_profiles(con, export, landing, profiles_dir, settle, enricher, hashes))
    report.files.extend(record_ignored(con, landing, profiles_dir))
    hashes.save(con)
    # After the files' commits: a load is in the lake only once it is in the ledger; one the lake lacks (a crash
    # in between, a new lake root) is written by the next run.
    root = lake_root(database_path(con))
    if root is not None:
        sync_lake(con, [export.name], root)
    for result in report.files:
        if result.status in ("refused", "unsettled"):
            log.warning("%s file: %s", result.status.capitalize(), result.message)
        elif result.status == "ignored":
            log.info("Ignored file: %s", result.message)
    _release_memory()
    return report


def _release_memory() -> None:
    """Hand back to the system what the load no longer needs, in the process that then waits for dbt (the nightly
    job loads in it): the enrichment's caches of values (0.55 GiB after calls, chats, customers, FAQ views and texts
    at 10 million events, DECISIONS.md "The loader's caches are emptied after each export") and the memory Arrow's
    allocator keeps once its buffers are freed (the vectorised functions and the JSON Lines staging allocate through
    it; 0.2 GiB after the customers, "The night's peak of memory at 10 million events")."""
    import pyarrow as pa

    clear_caches()
    pa.default_memory_pool().release_unused()


def _load_through_profiles(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    landing: Path,
    profiles_dir: Path,
    settle: float,
    enricher: Enricher,
    hashes: FileHashes,
) -> list[FileResult]:
    # pandas is imported only when a mapping profile converts a file.
    from .conversion import ForeignFileError, convert_file
    from .profile_check import rejections_in_all_targets

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
                sha = _marker_sha("link", src) if verdict is not None else hashes.sha256(src)
            except OSError as exc:
                verdict, sha = ("refused", f"{src}: cannot be read: {exc}"), _marker_sha("unreadable", src)
            # The same file mapped by a second profile is that profile's load, not a repeat of the first.
            if _already_loaded(con, export.name, sha, profile.name):
                results.append(FileResult(export.name, str(src), sha, "skipped", message="already in the ledger"))
                continue
            if verdict is not None:
                results.append(record_file(con, export.name, src, sha, *verdict, profile.name))
                continue
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    converted = convert_file(profile, src, Path(tmp))
                    forced = rejections_in_all_targets(profile, converted, str(src))
                except ForeignFileError as refused:
                    results.append(record_file(con, export.name, src, sha, "refused", str(refused), profile.name))
                    continue
                except Exception as exc:  # noqa: BLE001 - one unreadable foreign file is its own refusal
                    reason = f"{src}: mapping profile '{profile.name}' cannot convert it: {type(exc).__name__}: {exc}"
                    results.append(record_file(con, export.name, src, sha, "refused", reason, profile.name))
                    continue
                results.append(
                    load_file(
                        con,
                        export,
                        converted.paths[export.name],
                        origin=src,
                        origin_sha256=sha,
                        rows_filtered=converted.foreign_rows - converted.kept[export.name],
                        profile=profile.name,
                        forced=forced,
                        line_map=converted.line_maps.get(export.name),
                        enricher=enricher,
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
