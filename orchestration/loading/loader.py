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
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import gzip
import hashlib
import io
import json
import logging
import os
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import duckdb

from orchestration.duckdb_settings import connect as connect_warehouse
from orchestration.loading.sources import EXPORTS_BY_NAME, JSON_PATHS, Column, Export, RawTable

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
LEDGER = f"{RAW_SCHEMA}._load_ledger"
QUARANTINE = f"{RAW_SCHEMA}._quarantine"
DUPLICATES = f"{RAW_SCHEMA}._duplicate_keys"
SOURCE_LINE = "_source_line"
META_COLUMNS = (
    ("_source_file", "VARCHAR"),
    ("_source_line", "BIGINT"),
    ("_load_id", "VARCHAR"),
    ("_load_seq", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)
SQL_TYPES = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "integer": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
}
PARSE_FAILURE = {
    "timestamp": "unparseable timestamp",
    "integer": "not an integer",
    "double": "not a number",
    "boolean": "not a boolean",
}
LEDGER_COLUMNS = (
    "load_id",
    "load_seq",
    "export",
    "file_path",
    "file_sha256",
    "file_bytes",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "status",
    "message",
    "loaded_at",
    "rows_filtered",
    "rows_duplicate",
    "reason",
)
# Statuses written to the ledger; ``skipped`` (already there) and ``unsettled`` (still being written) are not.
RECORDED_STATUSES = ("loaded", "refused", "ignored")

SETTLE_SECONDS_ENV = "CONTACT_WAREHOUSE_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 5.0
MAX_RECORD_BYTES_ENV = "CONTACT_WAREHOUSE_MAX_RECORD_BYTES"
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
FUTURE_TOLERANCE_ENV = "CONTACT_WAREHOUSE_FUTURE_TOLERANCE_MINUTES"
DEFAULT_FUTURE_TOLERANCE_MINUTES = 60.0
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
# Names that writers use while a file is incomplete: never read, never recorded, reported as unsettled.
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart", ".download")
# A quarantined record keeps at most this much of its text (a 20 MB line must not be copied into the quarantine).
RAW_RECORD_KEEP = 10_000
JSONL_BATCH = 20_000
# Marks a refusal for an unexpected error (not the file's content): such a file is tried again next run.
RETRIED = "could not be loaded (retried next run)"
JSONL_BATCH_CHARS = 64 * 1024 * 1024


class RefusedFileError(ValueError):
    """A whole file was refused (header mismatch, unreadable document)."""


@dataclass
class FileResult:
    export: str
    path: str
    sha256: str
    status: str  # loaded | refused | ignored (all three in the ledger) | skipped | unsettled (not)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""
    rows_filtered: int = 0
    rows_duplicate: int = 0

    @property
    def reason(self) -> str:
        """Why the file was refused, ignored or left for later (the ledger's ``reason``)."""
        return self.message


@dataclass
class LoadReport:
    export: str
    files: list[FileResult] = field(default_factory=list)

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def rows_read(self) -> int:
        return self._sum("rows_read")

    @property
    def rows_loaded(self) -> int:
        return self._sum("rows_loaded")

    @property
    def rows_rejected(self) -> int:
        return self._sum("rows_rejected")

    @property
    def rows_filtered(self) -> int:
        return self._sum("rows_filtered")

    @property
    def rows_duplicate(self) -> int:
        return self._sum("rows_duplicate")

    def by_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]


# ------------------------------------------------------------------------------------------ settings


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r}: expected a number >= 0")
    return value


def settle_seconds() -> float:
    """A file is read only once unmodified for this long (0 in tests: fixtures are complete when written)."""
    return _env_number(SETTLE_SECONDS_ENV, DEFAULT_SETTLE_SECONDS)


def max_record_bytes() -> int:
    """Longest record (JSON line) or CSV field read; a longer one is quarantined, so memory stays bounded."""
    return int(_env_number(MAX_RECORD_BYTES_ENV, DEFAULT_MAX_RECORD_BYTES))


def future_tolerance_minutes() -> float:
    """How far after the load time a timestamp may lie (clock skew) before it is quarantined as future."""
    return _env_number(FUTURE_TOLERANCE_ENV, DEFAULT_FUTURE_TOLERANCE_MINUTES)


# --------------------------------------------------------------------------------------------- schema


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, ledger, quarantine and every raw table if missing (idempotent); add the ledger
    columns of later versions to an existing warehouse."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"""create table if not exists {LEDGER} (
            load_id varchar, load_seq bigint, export varchar, file_path varchar, file_sha256 varchar,
            file_bytes bigint, rows_read bigint, rows_loaded bigint, rows_rejected bigint,
            status varchar, message varchar, loaded_at timestamp)"""
    )
    # Files loaded before these columns existed had no profile filter counted (0 filtered reconciles them)
    # and no duplicate count (NULL: no data).
    con.execute(f"alter table {LEDGER} add column if not exists rows_filtered bigint default 0")
    con.execute(f"alter table {LEDGER} add column if not exists rows_duplicate bigint")
    con.execute(f"alter table {LEDGER} add column if not exists reason varchar")
    con.execute(
        f"""create table if not exists {QUARANTINE} (
            load_id varchar, export varchar, raw_table varchar, file_path varchar, line bigint,
            field varchar, reason varchar, raw_record varchar, quarantined_at timestamp)"""
    )
    con.execute(
        f"""create table if not exists {DUPLICATES} (
            load_id varchar, export varchar, raw_table varchar, file_path varchar, key_columns varchar,
            key_value varchar, occurrences bigint, first_line bigint, kept_line bigint, loaded_at timestamp)"""
    )
    for export in EXPORTS_BY_NAME.values():
        for table in export.tables:
            cols = [f'"{c.name}" {SQL_TYPES[c.type]}' for c in table.columns]
            cols += [f"{name} {sql_type}" for name, sql_type in META_COLUMNS]
            con.execute(f"create table if not exists {RAW_SCHEMA}.{table.name} ({', '.join(cols)})")


def connect(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    # Threads, memory limit and spill folder from the environment, as dbt's (orchestration/duckdb_settings.py).
    con = connect_warehouse(db_path, preserve_insertion_order=True)
    # Offsets in the exports are honoured; a timestamp without offset is read as UTC (DECISIONS.md).
    con.execute("set TimeZone = 'UTC'")
    return con


# ------------------------------------------------------------------------------------------ helpers


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _marker_sha(kind: str, path: Path) -> str:
    """A stand-in hash for a file that is not read (a link out of the landing folder, an unreadable file)."""
    target = os.readlink(path) if path.is_symlink() else ""
    return hashlib.sha256(f"{kind}:{path}->{target}".encode()).hexdigest()


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _clip(text: str) -> str:
    return text if len(text) <= RAW_RECORD_KEEP else f"{text[:RAW_RECORD_KEEP]}... ({len(text)} characters)"


def compression_of(path: Path) -> str | None:
    return COMPRESSIONS.get(path.suffix.lower())


def _open_binary(path: Path) -> IO[bytes]:
    compression = compression_of(path)
    if compression == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if compression == "zstd":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            raise RefusedFileError(
                f"{path}: zstd-compressed, and this installation has no zstd decoder (Python package "
                "'zstandard'): deliver it uncompressed or gzip-compressed (.gz)"
            ) from None
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True))
    return path.open("rb")


def _decode_error(path: Path, origin: str, header: list[str] | None) -> str:
    """Where the first byte that is not UTF-8 sits: line (1-based), field (CSV) and byte offset."""
    offset, line, tail = 0, 1, b""
    with _open_binary(path) as handle:
        carry = b""
        while chunk := handle.read(1 << 20):
            data = carry + chunk
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
                    good, carry = data[: exc.start], data[exc.start :]
                else:
                    good = data[: exc.start]
                    line += good.count(b"\n")
                    tail = (tail + good).rsplit(b"\n", 1)[-1]
                    byte, at = data[exc.start], offset + exc.start
                    break
            else:
                good, carry = data, b""
            line += good.count(b"\n")
            tail = (tail + good).rsplit(b"\n", 1)[-1][-RAW_RECORD_KEEP:]
            offset += len(good)
        else:
            # Only an incomplete sequence at the very end (a Latin-1 file ending in 'é', say), or nothing.
            if not carry:
                return f"{origin}: not UTF-8 text"
            byte, at = carry[0], offset
    where = f"line {line}"
    if header is None and line > 1:
        # Python decodes ahead of the parser: the error may surface while the header is being read.
        with _open_binary(path) as handle:
            header = next(csv.reader([handle.readline().decode("utf-8", "replace").strip()]), [])
    # The field is counted on the line's text before the bad byte (a quoted newline before it would shift it).
    fields = next(csv.reader([tail.decode("utf-8", "replace")]), [])
    index = max(len(fields) - 1, 0)
    name = header[index].strip() if header and index < len(header) else str(index + 1)
    where += f", field '{name}'" if line > 1 else f", field {index + 1} of the header"
    return (
        f"{origin}: not UTF-8 text: byte 0x{byte:02x} at {where} (byte {at} of the file) cannot be decoded; "
        "re-export the file as UTF-8, or load it through a mapping profile that declares its encoding "
        "(encoding: latin-1)"
    )


def _parse_expr(column: Column, text_expr: str) -> str:
    """SQL that turns the text value into the column's type, NULL when it does not parse."""
    value = f"nullif(trim({text_expr}), '')"
    if column.type == "timestamp":
        return f"timezone('UTC', try_cast({value} as timestamptz))"
    if column.type == "text":
        return f"nullif({text_expr}, '')"
    if column.type == "integer":
        # Only whole numbers in decimal digits (12, -3, 12.0): a cast would round 1.234 and 12.7 and read
        # 1e3 and 0x1F as numbers, changing the value without a word.
        return (
            f"case when regexp_full_match({value}, '[+-]?[0-9]+([.]0*)?') "
            f"then try_cast(regexp_replace({value}, '[.]0*$', '') as bigint) end"
        )
    return f"try_cast({value} as {SQL_TYPES[column.type]})"


TYPED = "__typed__"


def _typed(name: str, alias: str = "t") -> str:
    """The parsed value of a column in a relation made by ``_stage_typed``."""
    return f'{alias}."{TYPED}{name}"'


def _stage_typed(con: duckdb.DuckDBPyConnection, table: RawTable, text_relation: str) -> str:
    """Parse every column once (checks and insert read the result): ``<text_relation>_typed``."""
    typed = ", ".join(f'{_parse_expr(c, f"t.{chr(34)}{c.name}{chr(34)}")} as "{TYPED}{c.name}"' for c in table.columns)
    con.execute(f"create or replace temp table {text_relation}_typed as select t.*, {typed} from {text_relation} t")
    return f"{text_relation}_typed"


def _error_cases(table: RawTable, alias: str, prefix: str = "", loaded_at: str = "") -> tuple[str, str]:
    """Two CASE expressions over a relation made by ``_stage_typed``: the first failing field and why it
    failed, in column order, then the table's rules. ``loaded_at`` (ISO text, UTC) enables the check for
    timestamps in the future."""
    field_cases, reason_cases = [], []

    def case(field_name: str, condition: str, reason: str) -> None:
        field_cases.append(f"when {condition} then '{prefix}{field_name}'")
        reason_cases.append(f"when {condition} then {reason}")

    tolerance = future_tolerance_minutes()
    future_limit = ""
    if loaded_at:
        limit_at = datetime.fromisoformat(loaded_at) + timedelta(minutes=tolerance)
        future_limit = f"timestamp '{limit_at.isoformat(sep=' ')}'"
    for column in table.columns:
        text = f'{alias}."{column.name}"'
        quoted_value = f"chr(39) || {text} || chr(39)"
        present = f"nullif(trim({text}), '') is not null"
        parsed = _typed(column.name, alias)
        if column.required:
            case(column.name, f"not ({present})", "'missing required value'")
        if column.type != "text":
            case(column.name, f"({present} and {parsed} is null)", f"'{PARSE_FAILURE[column.type]} ' || {quoted_value}")
        if column.nonnegative:
            case(column.name, f"coalesce({parsed} < 0, false)", f"'negative duration ' || {quoted_value}")
        if column.type == "timestamp" and future_limit:
            case(
                column.name,
                f"coalesce({parsed} > {future_limit}, false)",
                f"'timestamp in the future (after the load time {loaded_at[:19]} UTC + {tolerance:g} min) ' || "
                f"{quoted_value}",
            )
    parsed_of = {c.name: _typed(c.name, alias) for c in table.columns}
    for rule in table.rules:
        violated = rule.violated.format(**{name: f"({expr})" for name, expr in parsed_of.items()})
        case(
            rule.field,
            f"coalesce({violated}, false)",
            f'{_quote(rule.reason + " ")} || chr(39) || {alias}."{rule.field}" || chr(39)',
        )
    if not field_cases:
        return "null", "null"
    return f"case {' '.join(field_cases)} end", f"case {' '.join(reason_cases)} end"


def _insert_rows(con: duckdb.DuckDBPyConnection, table: RawTable, text_relation: str, where: str, meta: str) -> int:
    typed = ", ".join(_typed(c.name) for c in table.columns)
    con.execute(f"insert into {RAW_SCHEMA}.{table.name} select {typed}, {meta} from {text_relation} t where {where}")
    return con.execute(f"select count(*) from {text_relation} t where {where}").fetchone()[0]


# ------------------------------------------------------------------------------------------- CSV


def read_header(path: Path) -> list[str]:
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def check_header(path: Path | str, table: RawTable, extra: Iterable[str] = (), header: list[str] | None = None) -> None:
    header = [h.strip() for h in (read_header(Path(path)) if header is None else header)]
    expected = table.column_names + list(extra)
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    repeated = list(dict.fromkeys(c for i, c in enumerate(header) if c in header[:i]))
    if missing or unexpected or repeated or header != expected:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if unexpected:
            parts.append(f"unexpected columns {unexpected}")
        if repeated:
            parts.append(f"repeated columns {repeated}")
        if not parts:
            parts.append(f"columns out of order, expected {expected}")
        raise RefusedFileError(f"{path}: header (line 1) does not match export '{table.name}': {'; '.join(parts)}")


class _RecordLines:
    """The physical lines of a text stream, keeping those of the record being parsed (its raw text)."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.current: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        self.current.append(line)
        return line

    def take(self) -> str:
        text, self.current = "".join(self.current), []
        return text


def _cut_field(raw: str, names: list[str]) -> str:
    """The field a malformed record breaks in: the last one a lenient parser reaches. The text is cut to the
    reader's field size limit, so an over-long field ends the prefix and is the one named."""
    try:
        fields = next(csv.reader(io.StringIO(raw[: csv.field_size_limit()], newline="")), [""])
    except csv.Error:
        return "*"
    index = max(len(fields) - 1, 0)
    return names[index] if index < len(names) else "*"


def _scan_csv(path: Path, origin: str, table: RawTable, out: Path) -> tuple[int, list[tuple], bool]:
    """Read a CSV once with Python's reader: check its header, write the well-formed records to ``out`` (with
    ``_line``, the physical line where each starts, or the ``_source_line`` a profile wrote) and return
    (records read, malformed records as (line, field, reason, raw), whether the file had ``_source_line``)."""
    limit = max_record_bytes()
    previous_limit = csv.field_size_limit(limit)
    bad: list[tuple] = []
    records = 0
    header: list[str] | None = None
    try:
        with (
            _open_binary(path) as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
            out.open("w", encoding="utf-8", newline="") as sink,
        ):
            lines = _RecordLines(text)
            reader = csv.reader(lines, strict=True)
            try:
                header = [h.strip() for h in next(reader, [])]
            except csv.Error as exc:
                raise RefusedFileError(f"{origin}: the header (line 1) is not valid CSV: {exc}") from None
            lines.take()
            has_line_column = SOURCE_LINE in header
            check_header(origin, table, [SOURCE_LINE] if has_line_column else [], header)
            width, names = len(header), table.column_names
            writer = csv.writer(sink, lineterminator="\n")
            writer.writerow(header if has_line_column else [*header, "_line"])
            previous_end = reader.line_num
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    start, previous_end = previous_end + 1, reader.line_num
                    raw_text = lines.take()
                    reason = f"malformed CSV: {exc}"
                    if "field larger than field limit" in str(exc):
                        reason = f"a field is longer than the maximum of {limit} characters ({MAX_RECORD_BYTES_ENV})"
                    bad.append((start, _cut_field(raw_text, names), reason, _clip(raw_text)))
                    records += 1
                    continue
                # The reader yields [] for a blank line: line numbers count it, records do not.
                start, previous_end = previous_end + 1, reader.line_num
                if len(row) == width:
                    lines.current = []
                    records += 1
                    writer.writerow(row if has_line_column else [*row, start])
                    continue
                raw_text = lines.take()
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                records += 1
                found = f"{len(row)} fields, expected {width}"
                field_name = names[len(row)] if len(row) < len(names) else "*"
                bad.append((start, field_name, f"wrong number of fields: {found}", _clip(raw_text.rstrip("\r\n"))))
    except UnicodeDecodeError:
        raise RefusedFileError(_decode_error(path, origin, header)) from None
    finally:
        csv.field_size_limit(previous_limit)
    return records, bad, has_line_column


def _load_csv(con: duckdb.DuckDBPyConnection, export: Export, path: Path, meta: str, ctx: dict) -> tuple:
    table = export.main_table
    with tempfile.TemporaryDirectory(prefix="contact_warehouse_load_") as tmp:
        clean = Path(tmp) / "records.csv"
        records, bad, has_line_column = _scan_csv(path, ctx["file"], table, clean)
        line_name = SOURCE_LINE if has_line_column else "_line"
        columns = {**{n: "VARCHAR" for n in table.column_names}, line_name: "VARCHAR"}
        spec = "{" + ", ".join(f"{_quote(n)}: '{t}'" for n, t in columns.items()) + "}"
        # The file is the clean copy written above (a safe temporary name): well-formed by construction.
        con.execute(
            f"""create or replace temp table _text as
                select * exclude ({line_name}), try_cast({line_name} as bigint) as _line
                from read_csv({_quote(str(clean))}, columns = {spec}, header = true, auto_detect = false,
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


# ------------------------------------------------------------------------------------------ JSON


def _json_text_columns(table: RawTable, doc: str, key_columns: dict[str, str]) -> str:
    paths = JSON_PATHS.get(table.name, {})
    exprs = []
    for column in table.columns:
        if column.name in key_columns:
            exprs.append(f'{key_columns[column.name]} as "{column.name}"')
        else:
            exprs.append(f'json_extract_string({doc}, {_quote("$." + paths[column.name])}) as "{column.name}"')
    return ", ".join(exprs)


def _physical_lines(path: Path, limit: int) -> Iterator[tuple[int, bytes | None, bytes, int]]:
    """(line number, content or None when longer than ``limit``, its first bytes, its length) per physical
    line. A long line is read in pieces and never held whole: memory stays bounded by ``limit``."""
    with _open_binary(path) as handle:
        number = 0
        while line := handle.readline(limit + 3):
            number += 1
            if line.endswith(b"\n") or len(line) < limit + 3:
                content = line.rstrip(b"\r\n")
                whole = content if len(content) <= limit else None
                yield number, whole, content[:RAW_RECORD_KEEP], len(content)
                continue
            head, length = line[:RAW_RECORD_KEEP], len(line)
            while not line.endswith(b"\n"):
                line = handle.readline(1 << 20)
                if not line:
                    break
                length += len(line)
            yield number, None, head, length - (1 if line.endswith(b"\n") else 0)


def _stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path, origin: str) -> int:
    """Fill ``_lines(_line, raw_record)`` and ``_bad`` (over-long lines); return the records read."""
    limit = max_record_bytes()
    con.execute("create or replace temp table _lines (_line bigint, raw_record varchar)")
    con.execute("create or replace temp table _bad (_line bigint, field varchar, reason varchar, raw_record varchar)")
    numbers: list[int] = []
    texts: list[str] = []
    pending = [0]  # characters waiting in texts: a batch is bounded in bytes too, as lines may be long
    records = 0

    def flush() -> None:
        if numbers:
            con.execute("insert into _lines select unnest(?), unnest(?)", [numbers, texts])
            numbers.clear()
            texts.clear()
            pending[0] = 0

    for number, content, head, length in _physical_lines(path, limit):
        if content is None:
            records += 1
            reason = f"line of {length} bytes, longer than the maximum record size of {limit} ({MAX_RECORD_BYTES_ENV})"
            con.execute(
                "insert into _bad values (?, '*', ?, ?)", [number, reason, _clip(head.decode("utf-8", "replace"))]
            )
            continue
        try:
            text = content.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise RefusedFileError(
                f"{origin}: not UTF-8 text: byte 0x{content[exc.start]:02x} at line {number}, byte {exc.start + 1} "
                "of the line, cannot be decoded; re-export the file as UTF-8"
            ) from None
        if not text.strip():
            continue
        records += 1
        numbers.append(number)
        texts.append(text)
        pending[0] += len(text)
        if len(numbers) >= JSONL_BATCH or pending[0] >= JSONL_BATCH_CHARS:
            flush()
    flush()
    return records


def _stage_json_records(con: duckdb.DuckDBPyConnection, export: Export, path: Path, origin: str) -> int:
    """Fill temp table ``_recs(_line, doc, raw_record)`` with one JSON record each, ``_bad`` with invalid ones;
    return the number of records read."""
    if export.format == "jsonl":
        records = _stage_jsonl(con, path, origin)
        con.execute(
            """insert into _bad select _line, '*' as field, 'invalid JSON' as reason,
               raw_record from _lines where not coalesce(json_valid(raw_record), false)
               or json_type(raw_record) <> 'OBJECT'"""
        )
        con.execute(
            """create or replace temp table _recs as select _line, json(raw_record) as doc, raw_record
               from _lines where _line not in (select _line from _bad)"""
        )
        return records
    with _open_binary(path) as handle:
        data = handle.read()
    if not data.strip():
        raise RefusedFileError(f'{origin}: empty file ({len(data)} bytes): expected a JSON document {{"items": [...]}}')
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RefusedFileError(
            f"{origin}: not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} (byte {exc.start} of the file) "
            "cannot be decoded; re-export the file as UTF-8"
        ) from None
    del data
    con.execute("create or replace temp table _doc as select ? as content", [content])
    if not con.execute("select coalesce(json_valid(content), false) from _doc").fetchone()[0]:
        try:
            json.loads(content)
            problem = "not valid JSON"
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise RefusedFileError(f'{origin}: {problem}; expected a JSON document {{"items": [...]}}')
    if con.execute("select json_type(content, '$.items') from _doc").fetchone()[0] != "ARRAY":
        raise RefusedFileError(f'{origin}: not a JSON document of the form {{"items": [...]}} (no "items" array)')
    # A JSON document has no useful line numbers: records are numbered by their 0-based index in items.
    # The document is parsed once and its items unnested: extracting item i by path re-parses the whole
    # document per item, quadratic in time and memory (out of memory at 10 million events).
    con.execute(
        """create or replace temp table _recs as
           select position - 1 as _line, doc, doc::varchar as raw_record
           from (
               select unnest(items) as doc, generate_subscripts(items, 1) as position
               from (select json_extract(content, '$.items[*]') as items from _doc)
           )"""
    )
    limit = max_record_bytes()
    con.execute(
        f"""create or replace temp table _bad as
            select _line, '*' as field,
                   case when json_type(doc) <> 'OBJECT' then 'item is not a JSON object'
                        else 'item of ' || strlen(raw_record) || ' bytes, longer than the maximum record size of '
                             || {limit} || ' ({MAX_RECORD_BYTES_ENV})' end as reason,
                   left(raw_record, {RAW_RECORD_KEEP}) as raw_record
            from _recs where json_type(doc) <> 'OBJECT' or strlen(raw_record) > {limit}"""
    )
    con.execute("delete from _recs where _line in (select _line from _bad)")
    return con.execute("select (select count(*) from _recs) + (select count(*) from _bad)").fetchone()[0]


def _stage_json_children(con: duckdb.DuckDBPyConnection, export: Export) -> list[tuple[RawTable, str, str]]:
    """Text temp tables per raw table of the export: (table, temp name, field prefix for errors)."""
    parent = export.main_table
    key = parent.key[0]
    parent_key_expr = f"json_extract_string(doc, {_quote('$.' + JSON_PATHS[parent.name][key])})"
    con.execute(
        f"create or replace temp table _t_{parent.name} as select _line, "
        f"{_json_text_columns(parent, 'doc', {})} from _recs"
    )
    staged = [(parent, f"_t_{parent.name}", "")]
    arrays = {"chat_messages": "messages", "chat_tags": "tags", "form_answers": "answers"}
    for child in export.tables[1:]:
        array = arrays[child.name]
        index_col = next(c.name for c in child.columns if c.name.endswith("_index"))
        element = f"json_extract(doc, '$.{array}[' || i || ']')"
        keys = {key if key in child.column_names else parent.key[0]: parent_key_expr, index_col: "i::varchar"}
        if child.name == "chat_tags":
            keys["tag"] = f"json_extract_string(doc, '$.{array}[' || i || ']')"
        con.execute(
            f"""create or replace temp table _t_{child.name} as
                select _line, {_json_text_columns(child, element, keys)}
                from _recs, range(coalesce(json_array_length(doc, '$.{array}'), 0)::bigint) r(i)"""
        )
        staged.append((child, f"_t_{child.name}", f"{array}[]."))
    return staged


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


# ---------------------------------------------------------------------------------------- driver


def _quarantine(con: duckdb.DuckDBPyConnection, export: Export, table: RawTable, ctx: dict, select: str) -> int:
    before = con.execute(f"select count(*) from {QUARANTINE}").fetchone()[0]
    con.execute(
        f"""insert into {QUARANTINE} select {_quote(ctx["load_id"])}, {_quote(export.name)}, {_quote(table.name)},
            {_quote(ctx["file"])}, q.*, {_quote(ctx["at"])}::timestamp from ({select}) q"""
    )
    return con.execute(f"select count(*) from {QUARANTINE}").fetchone()[0] - before


def _record_duplicates(con: duckdb.DuckDBPyConnection, export: Export, ctx: dict) -> int:
    """List the keys loaded more than once from this file; return the rows repeating an earlier row's key.
    Staging keeps one row per key (the last line of the latest load): these rows are the ones it drops."""
    table = export.main_table
    keys = ", ".join(f'"{k}"' for k in table.key)
    key_text = "concat_ws('|', " + ", ".join(f'cast("{k}" as varchar)' for k in table.key) + ")"
    con.execute(
        f"""insert into {DUPLICATES}
            select ?, ?, ?, ?, ?, {key_text}, count(*), min(_source_line), max(_source_line), ?::timestamp
            from {RAW_SCHEMA}.{table.name} where _load_id = ? group by {keys} having count(*) > 1""",
        [ctx["load_id"], export.name, table.name, ctx["file"], ",".join(table.key), ctx["at"], ctx["load_id"]],
    )
    return con.execute(
        f"select coalesce(sum(occurrences - 1), 0) from {DUPLICATES} where load_id = ?", [ctx["load_id"]]
    ).fetchone()[0]


def _record_ledger(con: duckdb.DuckDBPyConnection, ctx: dict, result: FileResult, size: int) -> None:
    values = {
        "load_id": ctx["load_id"],
        "load_seq": ctx["seq"],
        "export": result.export,
        "file_path": result.path,
        "file_sha256": result.sha256,
        "file_bytes": size,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_rejected": result.rows_rejected,
        "status": result.status,
        "message": result.message,
        "loaded_at": ctx["at"],
        "rows_filtered": result.rows_filtered,
        "rows_duplicate": result.rows_duplicate if result.status == "loaded" else None,
        "reason": result.message or None,
    }
    con.execute(
        f"insert into {LEDGER} ({', '.join(LEDGER_COLUMNS)}) values ({', '.join('?' * len(LEDGER_COLUMNS))})",
        [values[c] for c in LEDGER_COLUMNS],
    )


def _new_context(con: duckdb.DuckDBPyConnection, file: str) -> dict:
    now = datetime.now(UTC).replace(tzinfo=None)
    seq = con.execute(f"select coalesce(max(load_seq), 0) + 1 from {LEDGER}").fetchone()[0]
    return {"load_id": f"{now:%Y%m%dT%H%M%S%f}-{seq}", "seq": seq, "file": file, "at": now.isoformat(sep=" ")}


def _already_loaded(con: duckdb.DuckDBPyConnection, export: str, sha: str) -> bool:
    """Loaded, or refused for its content: the same bytes would be refused again. Ignored files and refusals
    for an unexpected error are not final."""
    return bool(
        con.execute(
            f"""select count(*) from {LEDGER} where export = ? and file_sha256 = ?
                and (status = 'loaded'
                     or status = 'refused' and coalesce(reason, message, '') not like '%' || ? || '%')""",
            [export, sha, RETRIED],
        ).fetchone()[0]
    )


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
        meta = f"{_quote(str(origin))}, t._line, {_quote(ctx['load_id'])}, {ctx['seq']}, {_quote(ctx['at'])}::timestamp"
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


# ------------------------------------------------------------------------------------ landing folder


def _in_progress(name: str) -> bool:
    return name.lower().endswith(IN_PROGRESS_SUFFIXES)


def matches(name: str, patterns: Iterable[str]) -> bool:
    """A file name matches an export's patterns in any letter case, compressed (.gz, .zst) or not."""
    lower = name.lower()
    for suffix in COMPRESSIONS:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
            break
    return any(fnmatch.fnmatchcase(lower, pattern.lower()) for pattern in patterns)


def _folder_files(folder: Path, patterns: Iterable[str]) -> list[Path]:
    if not folder.is_dir():
        return []
    patterns = list(patterns)
    files = [
        p
        for p in folder.iterdir()
        if (p.is_file() or p.is_symlink()) and not p.is_dir() and not _in_progress(p.name) and matches(p.name, patterns)
    ]
    # Name order is delivery order for the generator's and most vendors' file names (date-stamped).
    return sorted(files)


def export_files(landing: Path, export: Export) -> list[Path]:
    return _folder_files(landing / export.name, export.file_patterns)


def _admit(path: Path, landing: Path, settle: float) -> tuple[str, str] | None:
    """Why a landed file is not read now: ('refused', reason) for a link leaving the landing folder,
    ('unsettled', reason) for a file still being written; None when it may be read."""
    # The resolved path, not only the file's own link: a linked export folder could lead outside too.
    target = Path(os.path.realpath(path))
    root = Path(os.path.realpath(landing))
    if not target.is_relative_to(root):
        return "refused", f"{path}: a symbolic link to {target}, outside the landing folder {root}: not read"
    if not target.is_file():
        return "refused", f"{path}: a symbolic link to {target}, which is not a file"
    age = time.time() - path.stat().st_mtime
    if age < settle:
        return "unsettled", (
            f"{path}: modified {age:.1f} s ago; read once unchanged for {settle:g} s ({SETTLE_SECONDS_ENV}): next run"
        )
    return None


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
    from orchestration.loading.profiles import ForeignFileError, convert_counted, discover_profiles

    results = []
    for profile in discover_profiles(profiles_dir):
        if export.name not in profile.targets:
            continue
        for src in _folder_files(landing / profile.folder, profile.file_patterns):
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


def _read_folders(landing: Path, profiles_dir: Path | None) -> dict[str, tuple[str, list[str]]] | None:
    """Landing subfolders that are read: folder -> (what reads it, its file patterns). None when the mapping
    profiles cannot be read (their folders are then not judged: the profile error is reported by the loads)."""
    folders = {e.name: (f"export '{e.name}'", list(e.file_patterns)) for e in EXPORTS_BY_NAME.values()}
    if profiles_dir is not None and profiles_dir.is_dir():
        from orchestration.loading.profiles import ProfileError, discover_profiles

        try:
            profiles = discover_profiles(profiles_dir)
        except ProfileError:
            return None
        for profile in profiles:
            folders[profile.folder] = (f"mapping profile '{profile.name}'", profile.file_patterns)
    return folders


def unread_files(landing: Path, profiles_dir: Path | None) -> Iterator[tuple[str, Path, str]]:
    """(export label, path, reason) of every file in the landing folder that no export or profile reads."""
    folders = _read_folders(landing, profiles_dir)
    if folders is None or not landing.is_dir():
        return
    for root, dirs, files in os.walk(landing, followlinks=False):
        here = Path(root)
        relative = here.relative_to(landing).parts
        top = relative[0] if relative else ""
        linked_dirs = [d for d in dirs if (here / d).is_symlink()]
        for name in sorted([*files, *linked_dirs]):
            path = here / name
            if _in_progress(name):
                continue
            if (here / name).is_dir():
                if not relative and name in folders:
                    continue  # a linked export folder: its files are read, each refused if it leads outside
                yield top, path, f"{path}: symbolic link to a folder: not followed"
            elif not relative:
                yield "", path, f"{path}: not in an export folder (<landing>/<export>/<file>): not read"
            elif len(relative) > 1:
                yield top, path, f"{path}: in a nested folder: files are read from <landing>/<export>/ only"
            elif top not in folders:
                yield top, path, f"{path}: folder '{top}' belongs to no export and no mapping profile: not read"
            elif not matches(name, folders[top][1]):
                patterns = ", ".join(folders[top][1])
                yield (
                    top,
                    path,
                    (
                        f"{path}: does not match the file names of {folders[top][0]} ({patterns}; any letter case, "
                        "optionally .gz or .zst): not read"
                    ),
                )


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
