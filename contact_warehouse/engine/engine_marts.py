"""The marts a dbt target other than DuckDB built (PostgreSQL, Spark), copied into the build file's ``marts`` schema,
so that what reads marts after dbt (the expectation checks, publication, the report) works the same whatever engine
ran the models (README "Scaling out", DECISIONS.md "The nightly job on another engine").

Each column gets the type its model's YAML documents (the contract DuckDB enforces, read from dbt's manifest): the
other engines spell some results with other types (PostgreSQL's ``avg`` of integers is numeric, Spark's ``rank()``
an int), and the serving file keeps one schema whatever built it.

- PostgreSQL: every table of its schema ``marts``, through ``COPY ... TO STDOUT`` (CSV, the session in UTC), with the
  connection the profile's ``postgres`` target reads (CONTACT_WAREHOUSE_PG_*).
- Spark: the Parquet files of each table's folder ``<warehouse>/marts.db/<table>`` (CONTACT_WAREHOUSE_SPARK_WAREHOUSE,
  a local or mounted folder: object storage is not read yet), without a Spark session. Spark writes no file for an
  empty table: it becomes an empty table of its documented columns.

A mart the build file has but the engine did not build is left as it is.

The expectation suites of models outside ``marts`` (expectations/stg_*.json: the ledger, calls and survey answers as
staged) read those tables from the build file too: each is copied the same way into its own schema, with the
engine's column types (staging models document no data_type), Spark's zoned timestamps as UTC wall-clock
TIMESTAMP as every timestamp of the build file. One the engine lacks is dropped from the build file, so its check
fails on the missing table rather than passing on last night's rows (DECISIONS.md "Checks of staging off DuckDB").
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from contact_warehouse.engine.postgres import UntypedColumnError, duckdb_column_types
from contact_warehouse.engine.postgres import connect as connect_postgres
from contact_warehouse.engine.sql import sql_identifier, sql_literal
from contact_warehouse.quality.suites import read_suites
from contact_warehouse.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR

MARTS_SCHEMA = "marts"
SUPPORTED = ("duckdb", "postgres", "spark")


class EngineMartsError(RuntimeError):
    """The engine's marts cannot be read (no such target, no connection, a column the YAML does not document)."""


@dataclass(frozen=True)
class CopiedMarts:
    engine: str
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    empty: list[str] = field(default_factory=list)  # Spark: no file, an empty table of the documented columns
    checked: dict[str, int] = field(default_factory=dict)  # "schema.table" an expectation suite reads -> rows
    missing: list[str] = field(default_factory=list)  # such tables the engine lacks (dropped from the build file)


def target_type(target: str | None, profiles_dir: Path = DBT_PROJECT_DIR) -> str:
    """The adapter type (duckdb, postgres, spark, ...) of a target of the project's profile; the profile's default
    target when ``target`` is None."""
    path = profiles_dir / "profiles.yml"
    profile = yaml.safe_load(path.read_text())["contact_warehouse"]
    name = target or profile.get("target", "dev")
    outputs = profile.get("outputs", {})
    if name not in outputs:
        raise EngineMartsError(f"{path}: profile contact_warehouse has no target {name!r} (has {sorted(outputs)})")
    return str(outputs[name]["type"])


@dataclass(frozen=True)
class DocumentedMart:
    description: str
    types: dict[str, str]  # column -> data_type (DuckDB spelling)
    comments: dict[str, str]  # column -> description


def documented_marts(manifest: Path) -> dict[str, DocumentedMart]:
    """Every mart's documented columns, their types and descriptions, from dbt's manifest. The disabled models
    count: off DuckDB the marts of the dbt Python models are disabled in dbt and written by the Python step
    (python_steps.py), documented in the same YAML."""
    document = json.loads(manifest.read_text())
    disabled = [versions[0] for versions in (document.get("disabled") or {}).values() if versions]
    nodes = [*disabled, *document["nodes"].values()]  # an enabled node wins over a disabled one of the same name
    return {
        node["name"]: DocumentedMart(
            node.get("description") or "",
            {name: column.get("data_type") or "" for name, column in node["columns"].items()},
            {name: column.get("description") or "" for name, column in node["columns"].items()},
        )
        for node in nodes
        if node["resource_type"] == "model" and node["config"].get("schema") == MARTS_SCHEMA
    }


def checked_tables(manifest: Path, expectations: Path = EXPECTATIONS_DIR) -> list[tuple[str, str]]:
    """(schema, table) of every model outside ``marts`` that an expectation suite checks (the checks read the build
    file: orchestration/checks.py)."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    schemas = {node["name"]: node["config"].get("schema") for node in nodes if node["resource_type"] == "model"}
    checked = {suite.model for suite in read_suites(expectations)}
    return sorted((schemas[name], name) for name in checked if schemas.get(name) not in (None, MARTS_SCHEMA))


def _replace_as_is(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, source: str, types: Mapping[str, str]
) -> int:
    """``schema.table`` replaced by ``source``'s rows, each column cast to ``types``' DuckDB type."""
    target = f"{sql_identifier(schema)}.{sql_identifier(table)}"
    casts = ", ".join(f"cast({sql_identifier(c)} as {kind}) as {sql_identifier(c)}" for c, kind in types.items())
    con.execute(f"create schema if not exists {sql_identifier(schema)}")
    con.execute(f"create or replace table {target} as select {casts} from {source}")
    return con.execute(f"select count(*) from {target}").fetchone()[0]


def _drop_missing(con: duckdb.DuckDBPyConnection, copied: CopiedMarts, schema: str, table: str) -> None:
    con.execute(f"drop table if exists {sql_identifier(schema)}.{sql_identifier(table)}")
    copied.missing.append(f"{schema}.{table}")


def _replace(
    con: duckdb.DuckDBPyConnection, table: str, source: str, columns: list[str], marts: Mapping[str, DocumentedMart]
) -> int:
    """The table replaced by ``source``'s rows, each column cast to its documented type, with the descriptions as
    comments (as persist_docs writes them on DuckDB: publication copies them into the serving file)."""
    mart = marts.get(table)
    undocumented = [c for c in columns if mart is None or not mart.types.get(c)]
    if undocumented:
        raise EngineMartsError(f"mart {table}: no documented data_type for {undocumented} (its YAML)")
    casts = ", ".join(f"cast({sql_identifier(c)} as {mart.types[c]}) as {sql_identifier(c)}" for c in columns)
    target = f"{MARTS_SCHEMA}.{sql_identifier(table)}"
    con.execute(f"create or replace table {target} as select {casts} from {source}")
    if mart.description:
        con.execute(f"comment on table {target} is {sql_literal(mart.description)}")
    for column in columns:
        if mart.comments.get(column):
            con.execute(f"comment on column {target}.{sql_identifier(column)} is {sql_literal(mart.comments[column])}")
    return con.execute(f"select count(*) from {target}").fetchone()[0]


def _copy_from_postgres(
    con: duckdb.DuckDBPyConnection, marts: Mapping[str, DocumentedMart], checked: list[tuple[str, str]], environ
) -> CopiedMarts:
    source = connect_postgres(environ)
    copied = CopiedMarts("postgres")
    try:
        with source.cursor() as cur, tempfile.TemporaryDirectory(prefix="cw-marts-") as folder:
            cur.execute("set timezone = 'UTC'")
            cur.execute(
                "select table_name, column_name from information_schema.columns where table_schema = %s "
                "order by table_name, ordinal_position",
                (MARTS_SCHEMA,),
            )
            columns: dict[str, list[str]] = {}
            for table, column in cur.fetchall():
                columns.setdefault(table, []).append(column)
            for table, names in columns.items():
                csv = Path(folder) / f"{table}.csv"
                quoted = f'{MARTS_SCHEMA}."{table}"'
                with csv.open("w") as out:
                    cur.copy_expert(f"copy (select * from {quoted}) to stdout with (format csv, header true)", out)
                # Every value as text first (NULL stays NULL), then cast to the documented type.
                read = f"read_csv({sql_literal(str(csv))}, header = true, all_varchar = true)"
                copied.tables[table] = _replace(con, table, read, names, marts)
            for schema, table in checked:
                try:
                    types = duckdb_column_types(cur, schema, table)
                except UntypedColumnError as error:
                    raise EngineMartsError(str(error)) from error
                if types is None:
                    _drop_missing(con, copied, schema, table)
                    continue
                csv = Path(folder) / f"{schema}.{table}.csv"
                with csv.open("w") as out:
                    cur.copy_expert(
                        f'copy (select * from "{schema}"."{table}") to stdout with (format csv, header true)', out
                    )
                read = f"read_csv({sql_literal(str(csv))}, header = true, all_varchar = true)"
                copied.checked[f"{schema}.{table}"] = _replace_as_is(con, schema, table, read, types)
    finally:
        source.close()
    return copied


def _copy_from_spark(
    con: duckdb.DuckDBPyConnection, marts: Mapping[str, DocumentedMart], checked: list[tuple[str, str]], environ
) -> CopiedMarts:
    warehouse = environ.get("CONTACT_WAREHOUSE_SPARK_WAREHOUSE", str(DBT_PROJECT_DIR.parent / "data/spark-warehouse"))
    root = f"{warehouse.rstrip('/')}/{MARTS_SCHEMA}.db"
    copied = CopiedMarts("spark")
    folders = sorted(path for path in glob.glob(f"{root}/*") if Path(path).is_dir())
    if not folders:
        raise EngineMartsError(f"Spark: no tables under {root} (CONTACT_WAREHOUSE_SPARK_WAREHOUSE)")
    for folder in folders:
        table = Path(folder).name
        files = sorted(glob.glob(f"{folder}/**/*.parquet", recursive=True))
        if not files:
            names = list(marts[table].types) if table in marts else ["?"]
            no_rows = "(select " + ", ".join(f"null as {sql_identifier(c)}" for c in names) + ") as no_rows where false"
            copied.tables[table] = _replace(con, table, no_rows, names, marts)
            copied.empty.append(table)
            continue
        read = "read_parquet([" + ", ".join(sql_literal(file) for file in files) + "])"
        names = [row[0] for row in con.execute(f"describe select * from {read}").fetchall()]
        copied.tables[table] = _replace(con, table, read, names, marts)
    for schema, table in checked:
        folder = f"{warehouse.rstrip('/')}/{schema}.db/{table}"
        files = sorted(glob.glob(f"{folder}/**/*.parquet", recursive=True))
        if not files:  # no table, or an empty one (Spark writes no file): its columns are unknown without Spark
            _drop_missing(con, copied, schema, table)
            continue
        read = "read_parquet([" + ", ".join(sql_literal(file) for file in files) + "])"
        kinds = con.execute(f"describe select * from {read}").fetchall()
        # Spark's timestamps are instants: the build file keeps UTC wall clock (the session's zone is UTC).
        types = {row[0]: "TIMESTAMP" if row[1] == "TIMESTAMP WITH TIME ZONE" else row[1] for row in kinds}
        copied.checked[f"{schema}.{table}"] = _replace_as_is(con, schema, table, read, types)
    return copied


def copy_engine_marts(
    build_db: Path,
    engine: str,
    manifest: Path = DBT_PROJECT_DIR / "target" / "manifest.json",
    environ: Mapping[str, str] | None = None,
    expectations: Path = EXPECTATIONS_DIR,
) -> CopiedMarts:
    """Copy the marts ``engine`` built into ``build_db``'s schema marts, and the other tables an expectation suite
    of ``expectations`` checks into theirs (each table replaced whole, in one transaction: a failure leaves the
    build file's tables as they were). Nothing to do for DuckDB."""
    if engine not in SUPPORTED:
        raise EngineMartsError(f"reading the marts of a {engine} target is not supported (only {SUPPORTED})")
    if engine == "duckdb":
        return CopiedMarts("duckdb")
    environ = os.environ if environ is None else environ
    if not manifest.exists():
        raise EngineMartsError(f"no dbt manifest at {manifest}: run `python -m orchestration.project` first")
    marts = documented_marts(manifest)
    checked = checked_tables(manifest, expectations)
    con = duckdb.connect(str(build_db))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"create schema if not exists {MARTS_SCHEMA}")
        con.execute("begin")
        copied = (_copy_from_postgres if engine == "postgres" else _copy_from_spark)(con, marts, checked, environ)
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()
    return copied
