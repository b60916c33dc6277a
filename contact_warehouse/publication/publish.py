"""Safe publication: the marts of the build file, copied into a new DuckDB file and swapped into place.

Readers never open the build file. They open the serving file, which only ever holds a complete publication:
the marts of one run whose blocking checks passed, plus ``meta.publication``. The new file is written beside the
serving file under a temporary name, flushed to disk, then renamed over it with ``os.replace`` (atomic on one
file system). A reader holding the old file keeps its inode and a consistent copy; its next connection sees the
new one. Any failure before the rename leaves the serving file byte for byte as it was.

A night's file starts as a byte copy of the serving file when that is a publication this code can start from, and
only the rows that changed are written into it (delta.py); otherwise, and for small or reshaped tables, every
table is copied. Either way the file is the same publication, table for table.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from contact_warehouse.engine.duckdb_settings import connect
from contact_warehouse.engine.sql import sql_identifier, sql_literal
from contact_warehouse.publication.delta import (
    UNPUBLISHED_COLUMNS,
    published_select,
    replace_changed_rows,
    reusable_serving_file,
)
from contact_warehouse.publication.grains import add_grain_views
from contact_warehouse.settings import make_private

PUBLISHED_SCHEMA = "marts"  # the only schema that leaves the build file: never raw, staging or intermediate
META_SCHEMA = "meta"
PUBLICATION_TABLE = f"{META_SCHEMA}.publication"


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check evaluated by the run, as recorded in ``meta.publication``."""

    asset_key: str
    check_name: str
    passed: bool
    severity: str  # ERROR or WARN


@dataclass(frozen=True)
class Publication:
    path: Path
    run_id: str
    published_at: datetime
    tables: dict[str, int] = field(default_factory=dict)  # marts table -> row count
    checks: tuple[CheckOutcome, ...] = ()
    # The tables written by changed rows into a copy of the last publication; the others were copied whole.
    delta_tables: tuple[str, ...] = ()


def _temp_path(serving: Path, run_id: str) -> Path:
    return serving.with_name(f".{serving.name}.{run_id[:12]}.{os.getpid()}.tmp")


def _remove_leftovers(serving: Path) -> None:
    """Temporary files of a publication killed before its rename (runs never overlap: see locking.py)."""
    for leftover in serving.parent.glob(f".{serving.name}.*.tmp*"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_mode(temp: Path, serving: Path) -> None:
    """The new file gets the serving file's mode and group (an administrator's ``chmod 640`` or ``chgrp
    analysts`` survives publications); a first publication is private (owner, or the configured group)."""
    try:
        current = serving.stat()
    except FileNotFoundError:
        make_private(temp)
        return
    os.chmod(temp, stat.S_IMODE(current.st_mode))
    with contextlib.suppress(PermissionError):  # only root may give a file to a group it is not in
        os.chown(temp, -1, current.st_gid)


def published_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    """Tables and views of the marts schema in an attached catalog (none when the schema does not exist)."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "order by table_name",
        [catalog, PUBLISHED_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


PUBLICATION_TABLE_COMMENT = "The run that published this file: one row, written with the marts it describes."
PUBLICATION_COMMENTS = {
    "run_id": "Dagster run that built and published these marts.",
    "published_at": "When the file was published (UTC).",
    "status": "published (a file is only ever swapped in whole, after its blocking checks passed).",
    "tables": "Every marts table published, with its row count.",
    "checks": "The checks of the run (dbt tests and expectation suites): name, passed, severity.",
}


def _clear_comments(con: duckdb.DuckDBPyConnection, table: str, target: str) -> None:
    """A table kept from the last publication loses its comments (its grain warning among them) before the
    build's are copied, so that a description removed in dbt does not linger."""
    con.execute(f"comment on table {target} is null")
    for (column,) in con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() and schema_name = ? "
        "and table_name = ? and comment is not null",
        [PUBLISHED_SCHEMA, table],
    ).fetchall():
        con.execute(f"comment on column {target}.{sql_identifier(column)} is null")


def _start_from_previous(con: duckdb.DuckDBPyConnection, tables: list[str]) -> set[str]:
    """In a copy of the last publication: drop what every publication writes anew (meta, the grain views) and the
    tables the build no longer has. Returns the tables kept, which the rows that changed will update."""
    con.execute(f"drop schema if exists {META_SCHEMA} cascade")
    for (view,) in con.execute(
        "select view_name from duckdb_views() where database_name = current_database() and schema_name = ? "
        "and not internal",
        [PUBLISHED_SCHEMA],
    ).fetchall():
        con.execute(f"drop view {PUBLISHED_SCHEMA}.{sql_identifier(view)}")
    kept = set()
    for table in published_tables(con, con.execute("select current_database()").fetchone()[0]):
        if table in tables:
            kept.add(table)
        else:
            con.execute(f"drop table {PUBLISHED_SCHEMA}.{sql_identifier(table)}")
    return kept


def _copy_comments(con: duckdb.DuckDBPyConnection, table: str, target: str) -> None:
    """The table's and its columns' comments (the dbt descriptions, persist_docs) follow it into the serving
    file: `create table ... as select` copies rows, not comments."""
    for (comment,) in con.execute(
        "select comment from duckdb_tables() where database_name = 'build' and schema_name = ? and table_name = ?",
        [PUBLISHED_SCHEMA, table],
    ).fetchall():
        if comment:
            con.execute(f"comment on table {target} is {sql_literal(comment)}")
    for column, comment in con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = 'build' and schema_name = ? and table_name = ? and comment is not null",
        [PUBLISHED_SCHEMA, table],
    ).fetchall():
        if column in UNPUBLISHED_COLUMNS:
            continue
        con.execute(f"comment on column {target}.{sql_identifier(column)} is {sql_literal(comment)}")


def _write(
    con: duckdb.DuckDBPyConnection,
    build_db: Path,
    run_id: str,
    published_at: datetime,
    checks,
    from_previous: bool = False,
) -> tuple[dict, list[str]]:
    """Write the publication into ``con``'s file; with ``from_previous`` that file is a copy of the last one, whose
    tables are updated by their changed rows where that pays (delta.py). Returns the row counts and those tables."""
    # One transaction for the whole file: in autocommit each of its ~1,800 statements (a table, a comment per
    # column, a view per grain) commits and flushes DuckDB's log on its own, a fixed cost paid every night. Readers
    # never see this file before the rename, so nothing needs the commits in between (DECISIONS.md).
    con.execute(f"attach {sql_literal(str(build_db))} as build (read_only)")  # outside it: a rollback keeps it
    con.execute("begin transaction")
    try:
        tables = published_tables(con, "build")
        kept = _start_from_previous(con, tables) if from_previous else set()
        con.execute(f"create schema if not exists {PUBLISHED_SCHEMA}")
        counts, delta_tables = {}, []
        for table in tables:
            target = f"{PUBLISHED_SCHEMA}.{sql_identifier(table)}"
            if table in kept and replace_changed_rows(con, PUBLISHED_SCHEMA, table):
                delta_tables.append(table)
                _clear_comments(con, table, target)
            else:
                con.execute(f"drop table if exists {target}")
                # Views are materialised: what they read stays behind in the build file.
                columns = published_select(con, "build", PUBLISHED_SCHEMA, table)
                con.execute(
                    f"create table {target} as select {columns} from build.{PUBLISHED_SCHEMA}.{sql_identifier(table)}"
                )
            counts[table] = con.execute(f"select count(*) from {target}").fetchone()[0]
            _copy_comments(con, table, target)
    except BaseException:
        # A failed statement aborts the transaction; without the rollback, the detach below would fail with
        # "transaction is aborted" and hide the cause (a full disk, a missing table).
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.execute("detach build")
    for table in tables:
        add_grain_views(con, PUBLISHED_SCHEMA, table)
    con.execute(f"create schema {META_SCHEMA}")
    con.execute(
        f"""create table {PUBLICATION_TABLE} (
            run_id varchar not null,
            published_at timestamp not null,
            status varchar not null,
            tables struct(table_name varchar, row_count bigint)[] not null,
            checks struct(asset_key varchar, check_name varchar, passed boolean, severity varchar)[] not null)"""
    )
    for column, comment in PUBLICATION_COMMENTS.items():
        con.execute(f"comment on column {PUBLICATION_TABLE}.{column} is {sql_literal(comment)}")
    con.execute(f"comment on table {PUBLICATION_TABLE} is {sql_literal(PUBLICATION_TABLE_COMMENT)}")
    con.execute(
        f"insert into {PUBLICATION_TABLE} values (?, ?, 'published', ?, ?)",
        [
            run_id,
            published_at,
            [{"table_name": name, "row_count": count} for name, count in counts.items()],
            [
                {"asset_key": c.asset_key, "check_name": c.check_name, "passed": c.passed, "severity": c.severity}
                for c in checks
            ],
        ],
    )
    con.execute("commit")
    return counts, delta_tables


def publish(
    build_db: Path | str, serving_db: Path | str, run_id: str, checks: Sequence[CheckOutcome] = ()
) -> Publication:
    """Copy every marts table of ``build_db`` into a new file and swap it into ``serving_db``: into a copy of
    the serving file, only the rows that changed (delta.py).

    The caller guarantees that the build file is not being written (one run at a time) and that the run's
    blocking checks passed. A marts schema that does not exist yet publishes only ``meta.publication``.
    """
    build_db, serving_db = Path(build_db), Path(serving_db)
    if not build_db.exists():
        raise FileNotFoundError(f"no build file to publish: {build_db}")
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(serving_db)
    temp = _temp_path(serving_db, run_id)
    published_at = datetime.now(UTC).replace(tzinfo=None)
    from_previous = reusable_serving_file(serving_db, PUBLICATION_TABLE)
    try:
        if from_previous:
            shutil.copyfile(serving_db, temp)  # only read: the serving file stays as it is whatever happens next
        # The warehouse's memory bound: the copy of a 10M-event fct_events must spill, not grow.
        con = connect(temp, preserve_insertion_order=False)
        try:
            counts, delta_tables = _write(con, build_db, run_id, published_at, checks, from_previous)
            con.execute("checkpoint")
        finally:
            con.close()
        _keep_mode(temp, serving_db)
        _fsync(temp)
        os.replace(temp, serving_db)
        _fsync(serving_db.parent, directory=True)
    except BaseException:
        for path in (temp, temp.with_name(temp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    return Publication(serving_db, run_id, published_at, counts, tuple(checks), tuple(delta_tables))


def read_publication(serving_db: Path | str) -> dict | None:
    """``meta.publication`` of a serving file as a dict (None when the file has none)."""
    serving_db = Path(serving_db)
    if not serving_db.exists():
        return None
    with duckdb.connect(str(serving_db), read_only=True) as con:
        try:
            sql = f"select run_id, published_at, status, tables, checks from {PUBLICATION_TABLE}"
            row = con.execute(sql).fetchone()
        except duckdb.CatalogException:
            return None
    if row is None:
        return None
    run_id, published_at, status, tables, checks = row
    return {
        "run_id": run_id,
        "published_at": published_at,
        "status": status,
        "tables": {t["table_name"]: t["row_count"] for t in tables},
        "checks": checks,
    }
