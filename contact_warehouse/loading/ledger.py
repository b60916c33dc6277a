"""The ledger of files, the quarantine of bad rows and the list of repeated keys: their tables (created, and
migrated to the columns of later versions), and what is recorded for one file's load."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from contact_warehouse.engine.sql import sql_literal

from .common import DUPLICATES, LEDGER, META_COLUMNS, QUARANTINE, RAW_SCHEMA, SQL_TYPES
from .sources import EXPORTS_BY_NAME, Export, RawTable

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
    "profile",
)
# Statuses written to the ledger; ``skipped`` (already there) and ``unsettled`` (still being written) are not.
RECORDED_STATUSES = ("loaded", "refused", "ignored")


JSONL_BATCH = 20_000
# Marks a refusal for an unexpected error (not the file's content): such a file is tried again next run.
RETRIED = "could not be loaded (retried next run)"


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
    profile: str | None = None  # the mapping profile that read the file; None for a canonical export's file

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
    # NULL: a canonical export's file, or a foreign file loaded before the column existed.
    con.execute(f"alter table {LEDGER} add column if not exists profile varchar")
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
    existing = set(
        con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ?", [RAW_SCHEMA]
        ).fetchall()
    )
    for export in EXPORTS_BY_NAME.values():
        for table in export.tables:
            cols = [f'"{c.name}" {SQL_TYPES[c.type]}' for c in table.columns]
            cols += [f"{name} {sql_type}" for name, sql_type in META_COLUMNS]
            con.execute(f"create table if not exists {RAW_SCHEMA}.{table.name} ({', '.join(cols)})")
            # A column a later version declares is added to an existing warehouse's table (NULL in older rows).
            known = {column for name, column in existing if name == table.name}
            for column in table.columns:
                if known and column.name not in known:
                    con.execute(
                        f'alter table {RAW_SCHEMA}.{table.name} add column "{column.name}" {SQL_TYPES[column.type]}'
                    )


# ------------------------------------------------------------------------------------------ recording


def _quarantine(con: duckdb.DuckDBPyConnection, export: Export, table: RawTable, ctx: dict, select: str) -> int:
    # An INSERT's result is its row count (no count of the quarantine before and after). A batch gathers its files'
    # quarantined rows in a temp table (``ctx["quarantine"]``) and moves them in its transaction.
    target = ctx.get("quarantine", QUARANTINE)
    return con.execute(
        f"""insert into {target} select {sql_literal(ctx["load_id"])}, {sql_literal(export.name)},
            {sql_literal(table.name)}, {sql_literal(ctx["file"])}, q.*, {sql_literal(ctx["at"])}::timestamp
            from ({select}) q"""
    ).fetchone()[0]


def _record_duplicates(con: duckdb.DuckDBPyConnection, export: Export, ctx: dict) -> int:
    """List the keys loaded more than once from this file; return the rows repeating an earlier row's key.
    Staging keeps one row per key (the last line of the latest load): these rows are the ones it drops.
    A batch's context (``ctx["batch"]``: the load ids of its files, ``loader._load_batch``) lists every file's
    repeated keys at once and returns the sum; ``ctx["repeats"]`` then holds each load id's count."""
    table = export.main_table
    keys = ", ".join(f'"{k}"' for k in table.key)
    # The file's new rows, staged by the loader before they join the raw table (the raw table otherwise).
    source = ctx.get("staged", {}).get(table.name, f"{RAW_SCHEMA}.{table.name}")
    key_text = "concat_ws('|', " + ", ".join(f'cast("{k}" as varchar)' for k in table.key) + ")"
    if "batch" in ctx:
        # The same rows as one insert per file: grouped by the file's load (its load id, file and time) too.
        con.execute(
            f"""insert into {DUPLICATES}
                select _load_id, ?, ?, _source_file, ?, {key_text}, count(*), min(_source_line), max(_source_line),
                       _loaded_at
                from {source} group by _load_id, _source_file, _loaded_at, {keys} having count(*) > 1""",
            [export.name, table.name, ",".join(table.key)],
        )
        ctx["repeats"] = dict(
            con.execute(
                f"select load_id, sum(occurrences - 1) from {DUPLICATES} "
                "where load_id in (select unnest(?::varchar[])) group by load_id",
                [ctx["batch"]],
            ).fetchall()
        )
        return sum(ctx["repeats"].values())
    con.execute(
        f"""insert into {DUPLICATES}
            select ?, ?, ?, ?, ?, {key_text}, count(*), min(_source_line), max(_source_line), ?::timestamp
            from {source} where _load_id = ? group by {keys} having count(*) > 1""",
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
        "profile": result.profile,
    }
    con.execute(
        f"insert into {LEDGER} ({', '.join(LEDGER_COLUMNS)}) values ({', '.join('?' * len(LEDGER_COLUMNS))})",
        [values[c] for c in LEDGER_COLUMNS],
    )


def _new_context(con: duckdb.DuckDBPyConnection, file: str, seq: int | None = None) -> dict:
    """A load's id, sequence (the ledger's next one unless given: a batch numbers its files itself), file and time."""
    now = datetime.now(UTC).replace(tzinfo=None)
    if seq is None:
        seq = con.execute(f"select coalesce(max(load_seq), 0) + 1 from {LEDGER}").fetchone()[0]
    return {"load_id": f"{now:%Y%m%dT%H%M%S%f}-{seq}", "seq": seq, "file": file, "at": now.isoformat(sep=" ")}


# A ledger row that makes its file final (``_already_loaded``): loaded, or refused for its content, not for an
# unexpected error (whose message says it will be retried; the parameter is ``RETRIED``).
_FINAL = "(status = 'loaded' or status = 'refused' and coalesce(reason, message, '') not like '%' || ? || '%')"


def _final_shas(con: duckdb.DuckDBPyConnection, export: str) -> frozenset[str]:
    """The sha256 of every file of ``export`` that ``_already_loaded`` (without a profile) finds: same rule."""
    rows = con.execute(
        f"select distinct file_sha256 from {LEDGER} where export = ? and {_FINAL}", [export, RETRIED]
    ).fetchall()
    return frozenset(sha for (sha,) in rows)


def _already_loaded(con: duckdb.DuckDBPyConnection, export: str, sha: str, profile: str | None = None) -> bool:
    """Loaded, or refused for its content: the same bytes would be refused again. Ignored files and refusals
    for an unexpected error are not final. Through a mapping profile, only that profile's loads count: a second
    profile reading the same file is a different mapping (a ledger row from before profiles were recorded,
    NULL, counts for every profile, so upgrading loads nothing twice)."""
    return bool(
        con.execute(
            f"""select count(*) from {LEDGER} where export = ? and file_sha256 = ?
                and (? is null or coalesce(profile, ?) = ?) and {_FINAL}""",
            [export, sha, profile, profile, profile, RETRIED],
        ).fetchone()[0]
    )
