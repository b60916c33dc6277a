"""Load tool exports into the ``raw`` schema, with a ledger of files and a quarantine of bad rows.

Guarantees, per file and in one transaction:
- a file already in the ledger (same export, same sha256) is skipped: loading twice adds nothing;
- a file whose header does not match the export's columns is refused whole and recorded as refused;
- every record read is either loaded or quarantined (file, line, field, reason): read = loaded + rejected;
- every loaded row keeps its source file, line, load id and load sequence (the latest load wins in staging).

Parsing and validation run inside DuckDB (vectorised); Python only orchestrates files.
"""

from __future__ import annotations

import csv
import hashlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.duckdb_settings import connect as connect_warehouse
from orchestration.loading.sources import EXPORTS_BY_NAME, JSON_PATHS, Column, Export, RawTable

RAW_SCHEMA = "raw"
LEDGER = f"{RAW_SCHEMA}._load_ledger"
QUARANTINE = f"{RAW_SCHEMA}._quarantine"
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


class RefusedFileError(ValueError):
    """A whole file was refused (header mismatch, unreadable document)."""


@dataclass
class FileResult:
    export: str
    path: str
    sha256: str
    status: str  # loaded | refused | skipped
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""


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

    def by_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]


# --------------------------------------------------------------------------------------------- schema


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, ledger, quarantine and every raw table if missing (idempotent)."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"""create table if not exists {LEDGER} (
            load_id varchar, load_seq bigint, export varchar, file_path varchar, file_sha256 varchar,
            file_bytes bigint, rows_read bigint, rows_loaded bigint, rows_rejected bigint,
            status varchar, message varchar, loaded_at timestamp)"""
    )
    con.execute(
        f"""create table if not exists {QUARANTINE} (
            load_id varchar, export varchar, raw_table varchar, file_path varchar, line bigint,
            field varchar, reason varchar, raw_record varchar, quarantined_at timestamp)"""
    )
    for export in EXPORTS_BY_NAME.values():
        for table in export.tables:
            cols = [f'"{c.name}" {SQL_TYPES[c.type]}' for c in table.columns]
            cols += [f"{name} {sql_type}" for name, sql_type in META_COLUMNS]
            con.execute(f"create table if not exists {RAW_SCHEMA}.{table.name} ({', '.join(cols)})")


def connect(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    # Threads, memory limit and spill folder from the environment, as dbt's (orchestration/duckdb_settings.py).
    # Insertion order stays preserved: CSV rows are numbered by their scan order to find their physical line.
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


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _parse_expr(column: Column, text_expr: str) -> str:
    """SQL that turns the text value into the column's type, NULL when it does not parse."""
    value = f"nullif(trim({text_expr}), '')"
    if column.type == "timestamp":
        return f"timezone('UTC', try_cast({value} as timestamptz))"
    if column.type == "text":
        return f"nullif({text_expr}, '')"
    return f"try_cast({value} as {SQL_TYPES[column.type]})"


def _error_cases(table: RawTable, alias: str, prefix: str = "") -> tuple[str, str]:
    """Two CASE expressions: the first failing field and why it failed, in column order."""
    field_cases, reason_cases = [], []
    for column in table.columns:
        text = f'{alias}."{column.name}"'
        present = f"nullif(trim({text}), '') is not null"
        if column.required:
            field_cases.append(f"when not ({present}) then '{prefix}{column.name}'")
            reason_cases.append(f"when not ({present}) then 'missing required value'")
        if column.type != "text":
            bad = f"({present} and {_parse_expr(column, text)} is null)"
            field_cases.append(f"when {bad} then '{prefix}{column.name}'")
            reason_cases.append(f"when {bad} then '{PARSE_FAILURE[column.type]} ' || chr(39) || {text} || chr(39)")
    if not field_cases:
        return "null", "null"
    return f"case {' '.join(field_cases)} end", f"case {' '.join(reason_cases)} end"


def _insert_rows(con: duckdb.DuckDBPyConnection, table: RawTable, text_relation: str, where: str, meta: str) -> int:
    typed = ", ".join(_parse_expr(c, f't."{c.name}"') for c in table.columns)
    con.execute(f"insert into {RAW_SCHEMA}.{table.name} select {typed}, {meta} from {text_relation} t where {where}")
    return con.execute(f"select count(*) from {text_relation} t where {where}").fetchone()[0]


# ------------------------------------------------------------------------------------------- CSV


def read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def check_header(path: Path, table: RawTable, extra: Iterable[str] = ()) -> None:
    header = [h.strip() for h in read_header(path)]
    expected = table.column_names + list(extra)
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    if missing or unexpected or header != expected:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if unexpected:
            parts.append(f"unexpected columns {unexpected}")
        if not parts:
            parts.append(f"columns out of order, expected {expected}")
        raise RefusedFileError(f"{path}: header does not match export '{table.name}': {'; '.join(parts)}")


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: RawTable, has_line_column: bool) -> None:
    """Read a CSV as text into temp table ``_text`` (with ``_line``) and its malformed rows into ``_rej``."""
    names = table.column_names + ([SOURCE_LINE] if has_line_column else [])
    columns = "{" + ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in names) + "}"
    con.execute("drop table if exists _rej_scan; drop table if exists _rej_err")
    con.execute(
        f"""create or replace temp table _text_raw as
            select *, row_number() over () as _ordinal
            from read_csv({_quote(str(path))}, columns = {columns}, header = true, auto_detect = false,
                          delim = ',', quote = '"', escape = '"', store_rejects = true,
                          rejects_scan = '_rej_scan', rejects_table = '_rej_err',
                          parallel = false)"""
    )
    con.execute(
        """create or replace temp table _rej as
           select line, any_value(coalesce(column_name, '*')) as field,
                  any_value(error_type || ': ' || error_message) as reason,
                  any_value(csv_line) as raw_record
           from _rej_err group by line"""
    )
    # The reader numbers good rows only; map each back to its physical line by skipping rejected lines.
    line_expr = (
        f"try_cast(t.{SOURCE_LINE} as bigint)"
        if has_line_column
        else "t._ordinal + 1 + (select count(*) from _rej_gaps g where g.good_before < t._ordinal)"
    )
    con.execute(
        """create or replace temp table _rej_gaps as
           select line - 1 - row_number() over (order by line) as good_before from _rej"""
    )
    con.execute(f"create or replace temp table _text as select t.*, {line_expr} as _line from _text_raw t")


def _load_csv(con: duckdb.DuckDBPyConnection, export: Export, path: Path, meta: str, ctx: dict) -> tuple:
    table = export.main_table
    has_line_column = SOURCE_LINE in [h.strip() for h in read_header(path)]
    check_header(path, table, [SOURCE_LINE] if has_line_column else [])
    _stage_csv(con, path, table, has_line_column)
    err_field, err_reason = _error_cases(table, "t")
    raw_record = ", ".join(f"coalesce(t.\"{c}\", '')" for c in table.column_names)
    con.execute(
        f"""create or replace temp table _errs as
            select _line, {err_field} as field, {err_reason} as reason, concat_ws(',', {raw_record}) as raw_record
            from _text t where ({err_field}) is not null"""
    )
    loaded = _insert_rows(con, table, "_text", "t._line not in (select _line from _errs)", meta)
    rejected = _quarantine(con, export, table, ctx, "select _line, field, reason, raw_record from _errs")
    rejected += _quarantine(con, export, table, ctx, "select line, field, reason, raw_record from _rej")
    return loaded + rejected, loaded, rejected


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


def _stage_json_records(con: duckdb.DuckDBPyConnection, export: Export, path: Path) -> None:
    """Fill temp table ``_recs(_line, doc, raw_record)`` with one JSON record each, ``_bad`` with invalid ones."""
    if export.format == "jsonl":
        con.execute(
            f"""create or replace temp table _lines as
                select i as _line, lines[i] as raw_record
                from (select string_split(replace(content, chr(13), ''), chr(10)) as lines
                      from read_text({_quote(str(path))})),
                     range(1, len(lines) + 1) r(i)
                where trim(lines[i]) <> ''"""
        )
        con.execute(
            """create or replace temp table _bad as select _line, '*' as field, 'invalid JSON' as reason,
               raw_record from _lines where not coalesce(json_valid(raw_record), false)
               or json_type(raw_record) <> 'OBJECT'"""
        )
        con.execute(
            """create or replace temp table _recs as select _line, json(raw_record) as doc, raw_record
               from _lines where _line not in (select _line from _bad)"""
        )
        return
    content = con.execute(f"select content from read_text({_quote(str(path))})").fetchone()[0]
    con.execute("create or replace temp table _doc as select ? as content", [content])
    valid = con.execute(
        "select coalesce(json_valid(content), false) and json_type(content, '$.items') = 'ARRAY' from _doc"
    ).fetchone()[0]
    if not valid:
        raise RefusedFileError(f'{path}: not a JSON document of the form {{"items": [...]}}')
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
    con.execute(
        """create or replace temp table _bad as select _line, '*' as field, 'item is not a JSON object' as reason,
           raw_record from _recs where json_type(doc) <> 'OBJECT'"""
    )
    con.execute("delete from _recs where _line in (select _line from _bad)")


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
    _stage_json_records(con, export, path)
    staged = _stage_json_children(con, export)
    # The record-level error comes first, then the parent table's, then each child's (priority order).
    error_selects = ["select _line, field, reason, 0 as priority from _bad"]
    for priority, (table, temp, prefix) in enumerate(staged, start=1):
        err_field, err_reason = _error_cases(table, "t", prefix)
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
    return loaded + rejected, loaded, rejected


# ---------------------------------------------------------------------------------------- driver


def _quarantine(con: duckdb.DuckDBPyConnection, export: Export, table: RawTable, ctx: dict, select: str) -> int:
    before = con.execute(f"select count(*) from {QUARANTINE}").fetchone()[0]
    con.execute(
        f"""insert into {QUARANTINE} select {_quote(ctx["load_id"])}, {_quote(export.name)}, {_quote(table.name)},
            {_quote(ctx["file"])}, q.*, {_quote(ctx["at"])}::timestamp from ({select}) q"""
    )
    return con.execute(f"select count(*) from {QUARANTINE}").fetchone()[0] - before


def _record_ledger(con: duckdb.DuckDBPyConnection, ctx: dict, result: FileResult, size: int) -> None:
    con.execute(
        f"insert into {LEDGER} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ctx["load_id"],
            ctx["seq"],
            result.export,
            result.path,
            result.sha256,
            size,
            result.rows_read,
            result.rows_loaded,
            result.rows_rejected,
            result.status,
            result.message,
            ctx["at"],
        ],
    )


def load_file(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    *,
    origin: Path | None = None,
    origin_sha256: str | None = None,
) -> FileResult:
    """Load one file of an export in one transaction. ``origin`` names the user's file when ``path`` is a
    canonical conversion of it (mapping profiles); the ledger and quarantine always name the user's file."""
    origin = origin or path
    sha = origin_sha256 or sha256_of(origin)
    already = con.execute(
        f"select count(*) from {LEDGER} where export = ? and file_sha256 = ?", [export.name, sha]
    ).fetchone()[0]
    if already:
        return FileResult(export.name, str(origin), sha, "skipped", message="already in the ledger")
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        seq = con.execute(f"select coalesce(max(load_seq), 0) + 1 from {LEDGER}").fetchone()[0]
        ctx = {
            "load_id": f"{now:%Y%m%dT%H%M%S%f}-{seq}",
            "seq": seq,
            "file": str(origin),
            "at": now.isoformat(sep=" "),
        }
        meta = f"{_quote(str(origin))}, t._line, {_quote(ctx['load_id'])}, {seq}, {_quote(ctx['at'])}::timestamp"
        result = FileResult(export.name, str(origin), sha, "loaded")
        try:
            loader = _load_csv if export.format == "csv" else _load_json
            result.rows_read, result.rows_loaded, result.rows_rejected = loader(con, export, path, meta, ctx)
        except RefusedFileError as refused:
            result.status, result.message = "refused", str(refused).replace(str(path), str(origin))
        _record_ledger(con, ctx, result, origin.stat().st_size)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def export_files(landing: Path, export: Export) -> list[Path]:
    folder = landing / export.name
    if not folder.is_dir():
        return []
    files = {p for pattern in export.file_patterns for p in folder.glob(pattern) if p.is_file()}
    # Name order is delivery order for the generator's and most vendors' file names (date-stamped).
    return sorted(files)


def load_export(
    con: duckdb.DuckDBPyConnection, export_name: str, landing: Path, profiles_dir: Path | None = None
) -> LoadReport:
    """Load every new file of one export from the landing folder, plus foreign files through profiles."""
    export = EXPORTS_BY_NAME[export_name]
    ensure_raw_schema(con)
    report = LoadReport(export_name)
    for path in export_files(landing, export):
        report.files.append(load_file(con, export, path))
    if profiles_dir is not None and profiles_dir.is_dir():
        report.files.extend(_load_through_profiles(con, export, landing, profiles_dir))
    return report


def _load_through_profiles(
    con: duckdb.DuckDBPyConnection, export: Export, landing: Path, profiles_dir: Path
) -> list[FileResult]:
    from orchestration.loading.profiles import ForeignFileError, convert, discover_profiles

    results = []
    for profile in discover_profiles(profiles_dir):
        if export.name not in profile.targets:
            continue
        folder = landing / profile.folder
        sources = sorted({p for pat in profile.file_patterns for p in folder.glob(pat)}) if folder.is_dir() else []
        for src in sources:
            sha = sha256_of(src)
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    converted = convert(profile, src, Path(tmp))
                except ForeignFileError as refused:
                    results.append(_refuse(con, export, src, sha, str(refused)))
                    continue
                results.append(load_file(con, export, converted[export.name], origin=src, origin_sha256=sha))
    return results


def _refuse(con: duckdb.DuckDBPyConnection, export: Export, path: Path, sha: str, message: str) -> FileResult:
    """Record a refusal found before loading started (e.g. a profile cannot read the file)."""
    already = con.execute(
        f"select count(*) from {LEDGER} where export = ? and file_sha256 = ?", [export.name, sha]
    ).fetchone()[0]
    if already:
        return FileResult(export.name, str(path), sha, "skipped", message="already in the ledger")
    now = datetime.now(UTC).replace(tzinfo=None)
    seq = con.execute(f"select coalesce(max(load_seq), 0) + 1 from {LEDGER}").fetchone()[0]
    ctx = {"load_id": f"{now:%Y%m%dT%H%M%S%f}-{seq}", "seq": seq, "at": now.isoformat(sep=" ")}
    result = FileResult(export.name, str(path), sha, "refused", message=message)
    _record_ledger(con, ctx, result, path.stat().st_size)
    return result
