"""The dbt Python models on every engine: a step run between dbt invocations (DECISIONS.md "Python models on every
engine").

dbt runs Python models on DuckDB (dbt-duckdb) and on Databricks only: dbt-spark's session and Thrift methods and
dbt-postgres have none. On those targets the models are disabled (dbt_project.yml) and this step stands in for
them: it reads each model's inputs from the engine into an in-memory DuckDB (so the bodies get the relations and
pandas dtypes they get from dbt-duckdb), runs the same bodies (contact_warehouse/engine/python_models.py), and
writes each result into the engine as the table dbt would have made, in the same schema under the same name. The
SQL marts built on them read those tables through the macro ``python_model_ref`` (a source there, ``ref`` on
DuckDB), so they run in a second dbt invocation after the step:

    dbt run --target postgres --exclude source:python_models+
    python -m contact_warehouse.engine.python_steps --target postgres
    dbt run --target postgres --select source:python_models+

(``dbt_invocations`` gives that sequence for any target, for the job that runs dbt.) The connection comes from
dbt_project/profiles.yml, the vars from dbt_project.yml and ``--vars`` as dbt takes them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb

from contact_warehouse.engine.postgres import duckdb_column_types
from contact_warehouse.engine.python_models import PYTHON_MODELS, Params
from contact_warehouse.settings import DBT_PROJECT_DIR, declared_dbt_vars, parse_dbt_vars

# The dbt source (models/python_models.yml) the SQL models read the step's tables through off DuckDB.
SOURCE = "python_models"
# dbt selections around the step: everything else first, then what reads the step's tables.
DBT_BEFORE_STEP = ["--exclude", f"source:{SOURCE}+"]
DBT_AFTER_STEP = ["--select", f"source:{SOURCE}+"]

# DuckDB's column types -> PostgreSQL's, for the tables the step writes.
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


class Engine(Protocol):
    """Where dbt built the models: the step reads inputs from it and writes its tables into it."""

    def read(self, local: duckdb.DuckDBPyConnection, schema: str, name: str) -> duckdb.DuckDBPyRelation: ...

    def write(self, local: duckdb.DuckDBPyConnection, table: str, schema: str, name: str) -> None: ...


def params_from_vars(overrides: Mapping[str, object] | None = None) -> Params:
    """The bodies' parameters from dbt_project.yml's vars and a run's ``--vars`` (as dbt resolves them)."""
    values = {**declared_dbt_vars(), **(overrides or {})}
    return Params(
        staffing_interval_minutes=int(values["staffing_interval_minutes"]),
        forecast_horizon_days=int(values["forecast_horizon_days"]),
        forecast_history_weeks=int(values["forecast_history_weeks"]),
        staffing_fallback_aht_days=int(values["staffing_fallback_aht_days"]),
        reporting_timezone=str(values["reporting_timezone"]),
        engagement_window_days=int(values["engagement_window_days"]),
        churn_horizon_days=int(values["churn_horizon_days"]),
        prediction_history_days=int(values["prediction_history_days"]),
        prediction_training_rows_max=int(values["prediction_training_rows_max"]),
    )


def profile_output(target: str, profiles_dir: Path = DBT_PROJECT_DIR) -> dict[str, Any]:
    """The ``target`` output of profiles.yml rendered as dbt renders it (``env_var`` and ``as_number``): the step
    connects with exactly the settings dbt used."""
    import jinja2
    import yaml

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise ValueError(f"{profiles_dir / 'profiles.yml'}: env_var {name!r} is not set and has no default")
        return default

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.filters["as_number"] = lambda value: int(value) if str(value).lstrip("-").isdigit() else float(value)
    text = environment.from_string((profiles_dir / "profiles.yml").read_text(encoding="utf-8")).render(env_var=env_var)
    profile = yaml.safe_load(text)
    outputs = next(iter(profile.values()))["outputs"]
    if target not in outputs:
        raise ValueError(f"{profiles_dir / 'profiles.yml'}: no target {target!r} (targets: {', '.join(outputs)})")
    return outputs[target]


@dataclass
class DuckDBEngine:
    """A DuckDB file, attached to the step's connection (the dbt Python models cover DuckDB; the step runs there
    too so that its wiring is tested against theirs cheaply)."""

    path: str

    def attach(self, local: duckdb.DuckDBPyConnection) -> None:
        local.execute(f"attach '{self.path}' as engine")

    def read(self, local: duckdb.DuckDBPyConnection, schema: str, name: str) -> duckdb.DuckDBPyRelation:
        return local.table(f'engine."{schema}"."{name}"')

    def write(self, local: duckdb.DuckDBPyConnection, table: str, schema: str, name: str) -> None:
        local.execute(f'create schema if not exists engine."{schema}"')
        local.execute(f'create or replace table engine."{schema}"."{name}" as select * from "{table}"')


@dataclass
class PostgresEngine:
    """PostgreSQL (dbt-postgres): tables moved as CSV through COPY, typed on both sides from the catalogs."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    workdir: Path

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        import psycopg2

        con = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.dbname
        )
        try:
            with con.cursor() as cur:
                # Zoned timestamps as UTC text, doubles as the shortest text that reads back to the same double.
                cur.execute("set timezone to 'UTC'; set extra_float_digits to 1")
            yield con
            con.commit()
        finally:
            con.close()

    def read(self, local: duckdb.DuckDBPyConnection, schema: str, name: str) -> duckdb.DuckDBPyRelation:
        csv = self.workdir / f"{schema}.{name}.csv"
        with self._connection() as con, con.cursor() as cur:
            types = duckdb_column_types(cur, schema, name)
            if types is None:
                raise ValueError(f"PostgreSQL {self.dbname}: no table {schema}.{name} (run dbt before the step)")
            with csv.open("w", encoding="utf-8") as out:
                cur.copy_expert(f'copy (select * from "{schema}"."{name}") to stdout with (format csv)', out)
        table = f"{schema}__{name}"
        # An unquoted empty field is NULL, a quoted one the empty string (PostgreSQL's CSV).
        local.execute(
            f'create table "{table}" as select * from read_csv(?, columns = {types!r}, header = false, '
            "auto_detect = false, allow_quoted_nulls = false, quote = '\"', escape = '\"')",
            [str(csv)],
        )
        csv.unlink()
        return local.table(table)

    def write(self, local: duckdb.DuckDBPyConnection, table: str, schema: str, name: str) -> None:
        columns = local.execute(f'describe "{table}"').fetchall()
        unknown = [f"{row[0]} {row[1]}" for row in columns if row[1] not in POSTGRES_TYPES]
        if unknown:
            raise ValueError(f"{schema}.{name}: no PostgreSQL type for {', '.join(unknown)}")
        csv = self.workdir / f"{schema}.{name}.out.csv"
        local.execute(f"copy \"{table}\" to '{csv}' (format csv, header false)")
        definition = ", ".join(f'"{row[0]}" {POSTGRES_TYPES[row[1]]}' for row in columns)
        # One transaction: readers see the old table or the new one, never an empty one.
        with self._connection() as con, con.cursor() as cur, csv.open(encoding="utf-8") as rows:
            cur.execute(f'create schema if not exists "{schema}"')
            cur.execute(f'drop table if exists "{schema}"."{name}"')
            cur.execute(f'create table "{schema}"."{name}" ({definition})')
            cur.copy_expert(f'copy "{schema}"."{name}" from stdin with (format csv)', rows)
        csv.unlink()


@dataclass
class SparkEngine:
    """Spark (dbt-spark, session mode or a cluster this process can reach): tables moved as Parquet files. Spark
    keeps no zone-less timestamp apart from a zoned one in dbt's tables (``cast(... as timestamp)``), so timestamps
    arrive as UTC wall-clock TIMESTAMP, the type every mart contract gives them on DuckDB."""

    parameters: dict[str, str]
    workdir: Path
    _spark: Any = None

    def session(self) -> Any:
        if self._spark is None:
            from pyspark.sql import SparkSession

            # As dbt-spark's session mode builds it (dbt/adapters/spark/session.py), with its profile's parameters.
            builder = SparkSession.builder.enableHiveSupport()
            for name, value in {**self.parameters, "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS"}.items():
                builder = builder.config(name, str(value))
            self._spark = builder.getOrCreate()
        return self._spark

    def read(self, local: duckdb.DuckDBPyConnection, schema: str, name: str) -> duckdb.DuckDBPyRelation:
        folder = self.workdir / f"{schema}.{name}"
        self.session().table(f"`{schema}`.`{name}`").write.mode("overwrite").parquet(str(folder))
        table = f"{schema}__{name}"
        local.execute(f"create table \"{table}\" as select * from read_parquet('{folder}/*.parquet')")
        zoned = [
            row[0] for row in local.execute(f'describe "{table}"').fetchall() if row[1] == "TIMESTAMP WITH TIME ZONE"
        ]
        for column in zoned:
            local.execute(f'alter table "{table}" alter "{column}" type timestamp')  # session zone UTC: wall clock
        return local.table(table)

    def write(self, local: duckdb.DuckDBPyConnection, table: str, schema: str, name: str) -> None:
        from pyspark.sql.functions import col
        from pyspark.sql.types import TimestampNTZType

        path = self.workdir / f"{schema}.{name}.parquet"
        # pandas' nanosecond timestamps (TIMESTAMP_NS) as microseconds: Spark reads no nanosecond Parquet timestamp.
        columns = ", ".join(
            f'cast("{row[0]}" as timestamp) as "{row[0]}"' if row[1] == "TIMESTAMP_NS" else f'"{row[0]}"'
            for row in local.execute(f'describe "{table}"').fetchall()
        )
        local.execute(f"copy (select {columns} from \"{table}\") to '{path}' (format parquet)")
        spark = self.session()
        frame = spark.read.parquet(str(path))
        # Zone-less Parquet timestamps read as TIMESTAMP_NTZ; dbt's tables hold TIMESTAMP (the session zone is UTC).
        frame = frame.select(
            *(
                col(f.name).cast("timestamp").alias(f.name) if isinstance(f.dataType, TimestampNTZType) else col(f.name)
                for f in frame.schema.fields
            )
        )
        spark.sql(f"create database if not exists `{schema}`")
        frame.write.mode("overwrite").format("parquet").saveAsTable(f"`{schema}`.`{name}`")


def engine_for(target: str, workdir: Path, profiles_dir: Path = DBT_PROJECT_DIR) -> Engine:
    """The engine of a profiles.yml target."""
    output = profile_output(target, profiles_dir)
    kind = output["type"]
    if kind == "duckdb":
        return DuckDBEngine(str(output["path"]))
    if kind == "postgres":
        return PostgresEngine(
            host=str(output["host"]),
            port=int(output["port"]),
            user=str(output["user"]),
            password=str(output.get("password") or ""),
            dbname=str(output["dbname"]),
            workdir=workdir,
        )
    if kind == "spark" and output.get("method") == "session":
        return SparkEngine({str(k): str(v) for k, v in (output.get("server_side_parameters") or {}).items()}, workdir)
    raise ValueError(
        f"target {target!r}: the Python step runs on duckdb, postgres and spark in session mode, not {kind!r}"
        f" {output.get('method') or ''}".rstrip()
    )


def run_python_steps(engine: Engine, params: Params) -> dict[str, int]:
    """Every Python model on ``engine``, in dependency order; returns the rows written per model. A model's
    result feeds the later ones from the step's own copy, as dbt-duckdb's table would."""
    written: dict[str, int] = {}
    with duckdb.connect() as local:
        local.execute("set TimeZone = 'UTC'")  # as the profile sets it on dbt-duckdb's connections
        if isinstance(engine, DuckDBEngine):
            engine.attach(local)
        relations: dict[str, duckdb.DuckDBPyRelation] = {}
        for model in PYTHON_MODELS:
            for name in model.inputs:
                if name not in relations:
                    relations[name] = engine.read(local, _schema_of(name), name)
            frame = model.body({name: relations[name] for name in model.inputs}, params)
            # As dbt-duckdb materializes a Python model's frame: a table made from it.
            local.register("python_model_frame", frame)
            local.execute(f'create table "{model.name}" as select * from python_model_frame')
            local.unregister("python_model_frame")
            _type_null_columns(local, model.name)
            relations[model.name] = local.table(model.name)
            engine.write(local, model.name, model.schema, model.name)
            written[model.name] = len(frame)
    return written


def _type_null_columns(local: duckdb.DuckDBPyConnection, table: str) -> None:
    """A frame's column with no value at all (object dtype, all None: e.g. the forecast's backtest errors when no
    queue has history enough for a backtest) has DuckDB's type NULL, which PostgreSQL and Spark lack: it becomes a
    text column of NULLs. The SQL marts on the step's tables cast every column to its documented type
    (contract_columns), which a NULL of any type takes."""
    for column, kind, *_ in local.execute(f'describe "{table}"').fetchall():
        if kind in ('"NULL"', "NULL"):
            local.execute(f'alter table "{table}" alter "{column}" type varchar')


def _schema_of(name: str) -> str:
    """The layer schema of a model by its name's prefix (generate_schema_name keeps the folders' schemas as is)."""
    for prefix, schema in (("stg_", "staging"), ("int_", "intermediate")):
        if name.startswith(prefix):
            return schema
    return "marts"


STEP = None  # in dbt_invocations: where the Python step runs


def dbt_invocations(target_type: str, args: list[str]) -> list[list[str] | None]:
    """The dbt invocations (argument lists) that build ``args`` (``run`` or ``build`` and its flags, no selection)
    on an engine of ``target_type``, with ``STEP`` where the Python step runs between them. DuckDB: dbt alone
    (its dbt Python models run there). Elsewhere: everything but what reads the step's tables, the step, then
    those (with their tests under ``build``)."""
    chosen = [arg for arg in args if arg in ("-s", "--select", "--exclude", "--selector", "-m", "--models")]
    if chosen:
        raise ValueError(f"dbt {' '.join(args)}: no {chosen[0]} here, the invocations choose their own models")
    if target_type == "duckdb":
        return [list(args)]
    return [[*args, *DBT_BEFORE_STEP], STEP, [*args, *DBT_AFTER_STEP]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="the profiles.yml target dbt built (duckdb, postgres, spark)")
    parser.add_argument("--vars", default="", help="the --vars given to dbt (YAML or JSON mapping)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="python-steps-") as workdir:
        engine = engine_for(args.target, Path(workdir))
        try:
            written = run_python_steps(engine, params_from_vars(parse_dbt_vars(args.vars)))
        finally:
            if isinstance(engine, SparkEngine) and engine._spark is not None:
                engine._spark.stop()  # releases the session's metastore (Derby allows one process at a time)
    for name, rows in written.items():
        print(f"{name}: {rows} rows")
    print(f"python steps on {args.target}: {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
