"""PostgreSQL as the dbt engine (the profile's ``postgres`` target, README "Scaling out"): the connection the profile
reads (CONTACT_WAREHOUSE_PG_*), and the loader's raw tables copied from the build file to PostgreSQL's schema ``raw``
before dbt runs there.

The copy appends as the loader does: a raw table PostgreSQL already has gets the rows of the loads it lacks
(``_load_seq`` above its newest, the loader's increasing load sequence), so a nightly run copies one day, not the
history; the loader's own tables without a load sequence (ledger, lake files, quarantine: rewritten by the loader)
are replaced.
Rows go through ``COPY`` as CSV, the DuckDB session in UTC.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import duckdb

from contact_warehouse.engine.sql import sql_literal

RAW_SCHEMA = "raw"
# DuckDB's types of the raw tables -> PostgreSQL's.
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "UBIGINT": "numeric(20, 0)",  # raw._file_hashes.inode: an unsigned 64-bit value that bigint cannot hold
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}

# PostgreSQL's (information_schema.columns.data_type) -> DuckDB's, for the tables read back from it (the Python
# step's inputs, the staging tables engine_marts.py copies for the checks). numeric is read as DOUBLE: PostgreSQL
# makes numeric of what DuckDB types double (avg of integers, decimal literals), and the Python models' bodies take
# every measure as a float.
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "numeric": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
}


class PostgresError(RuntimeError):
    """PostgreSQL cannot be reached, or a raw table has a column type with no PostgreSQL equivalent here."""


class UntypedColumnError(ValueError):
    """A PostgreSQL column whose type has no DuckDB equivalent in ``DUCKDB_TYPES``."""


def duckdb_column_types(cur, schema: str, table: str) -> dict[str, str] | None:
    """The DuckDB type of each column of PostgreSQL's ``schema.table``, in column order; None when there is no such
    table. Raises ``UntypedColumnError`` naming every column whose type has no DuckDB equivalent."""
    cur.execute(
        "select column_name, data_type from information_schema.columns where table_schema = %s "
        "and table_name = %s order by ordinal_position",
        (schema, table),
    )
    columns = cur.fetchall()
    if not columns:
        return None
    unknown = [f"{column} {kind}" for column, kind in columns if kind not in DUCKDB_TYPES]
    if unknown:
        raise UntypedColumnError(f"PostgreSQL {schema}.{table}: no DuckDB type for {', '.join(unknown)}")
    return {column: DUCKDB_TYPES[kind] for column, kind in columns}


def connection_settings(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """psycopg2's arguments from the variables profiles.yml's postgres target reads (same defaults)."""
    environ = os.environ if environ is None else environ
    return {
        "host": environ.get("CONTACT_WAREHOUSE_PG_HOST", "localhost"),
        "port": int(environ.get("CONTACT_WAREHOUSE_PG_PORT", "5432")),
        "user": environ.get("CONTACT_WAREHOUSE_PG_USER", "postgres"),
        "password": environ.get("CONTACT_WAREHOUSE_PG_PASSWORD", ""),
        "dbname": environ.get("CONTACT_WAREHOUSE_PG_DB", "warehouse"),
    }


def connect(environ: Mapping[str, str] | None = None):
    import psycopg2

    settings = connection_settings(environ)
    try:
        return psycopg2.connect(**settings)
    except psycopg2.Error as error:
        where = f"{settings['user']}@{settings['host']}:{settings['port']}/{settings['dbname']}"
        raise PostgresError(f"PostgreSQL {where} (CONTACT_WAREHOUSE_PG_*): cannot connect: {error}".strip()) from error


def sync_raw_tables(build_db: Path, environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Copy the build file's raw tables to PostgreSQL (appending the loads it lacks); returns the rows copied per
    table."""
    con = connect(environ)
    con.autocommit = False
    copied: dict[str, int] = {}
    try:
        with (
            duckdb.connect(str(build_db), read_only=True) as source,
            con.cursor() as cur,
            tempfile.TemporaryDirectory(prefix="cw-raw-") as folder,
        ):
            source.execute("set TimeZone = 'UTC'")
            cur.execute("set timezone = 'UTC'")
            cur.execute(f"create schema if not exists {RAW_SCHEMA}")
            listed = source.execute(
                "select table_name from duckdb_tables() where schema_name = ? order by table_name", [RAW_SCHEMA]
            ).fetchall()
            for (table,) in listed:
                columns = source.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [RAW_SCHEMA, table],
                ).fetchall()
                unknown = [f"{name} {kind}" for name, kind in columns if kind not in POSTGRES_TYPES]
                if unknown:
                    raise PostgresError(f"{build_db}: raw.{table}: no PostgreSQL type for {unknown}")
                quoted = f'{RAW_SCHEMA}."{table}"'
                cur.execute("select to_regclass(%s) is not null", (quoted,))
                rows = quoted
                if not cur.fetchone()[0]:
                    cur.execute(
                        f"create table {quoted} ("
                        + ", ".join(f'"{name}" {POSTGRES_TYPES[kind]}' for name, kind in columns)
                        + ")"
                    )
                elif "_load_seq" in [name for name, _ in columns]:
                    cur.execute(f"select coalesce(max(_load_seq), 0) from {quoted}")
                    rows = f"(select * from {quoted} where _load_seq > {int(cur.fetchone()[0])})"
                else:
                    cur.execute(f"truncate {quoted}")
                csv = Path(folder) / f"{table}.csv"
                source.execute(f"copy {rows} to {sql_literal(str(csv))} (header false)")
                with csv.open() as lines:
                    cur.copy_expert(f"copy {quoted} from stdin with (format csv)", lines)
                copied[table] = cur.rowcount
                csv.unlink()
        con.commit()  # all tables or none: dbt never reads half a copy
    finally:
        con.close()
    return copied
