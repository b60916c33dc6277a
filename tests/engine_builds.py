"""The warehouses the engine tests share (tests/test_engines.py, tests/test_engines_increment.py), built once per
session: a pytest plugin (both modules name it in ``pytest_plugins``), so a fixture here runs once however many
modules use it, where a fixture imported into two modules would run once per module.

- ``sample``: the bundled sample loaded at once and built on DuckDB (the from-scratch build).
- ``nightly``: the same sample as a nightly run sees it on DuckDB: the history (every export file but the last day's)
  loaded and built, then the last day's files landed, loaded (the loader appends to the raw tables and the lake) and
  built with ``dbt run`` (incremental models read only the new loads).
- ``spark_nightly``: that history and increment on Spark, over a copy of the lake that gains the day's load folders
  as the loader wrote them. Its final marts are also the Spark marts test_engines.py compares with ``sample``: on
  plain Parquet tables every model is rebuilt by each run (macro incremental_or_table), so Spark's increment is a
  full build over the whole lake, and one Spark build (the slowest of the suite) is saved. Its history builds only
  the models incremental on DuckDB and their ancestors (the ones the increment must find and rebuild).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from conftest import environment, load_landing, run_dbt
from test_postgres import Postgres, postgres  # noqa: F401  (the throw-away PostgreSQL server: one per session)

from contact_warehouse.engine.postgres import sync_raw_tables
from contact_warehouse.engine.python_models import MODELS as PYTHON_STEP_MODELS
from contact_warehouse.engine.python_steps import DBT_BEFORE_STEP
from contact_warehouse.settings import DBT_PROJECT_DIR, ROOT, dbt_executable

TESTS = Path(__file__).parent
NO_APT = 3  # spark_setup.sh: no apt-get
SAMPLE = ROOT / "seeds"
# The dbt Python models and what reads them run on DuckDB only (dbt_project.yml): every build here leaves them out.
PYTHON_MODELS = ["int_staffing_forecast+", "int_staffing_actuals+", "int_prediction_rows+"]


@dataclass(frozen=True)
class Sample:
    root: Path
    db: Path
    lake: Path
    marts: dict[str, pd.DataFrame]  # DuckDB's marts


@dataclass(frozen=True)
class Nightly:
    """The sample built as history, then one nightly increment, on DuckDB."""

    root: Path
    last_day: str  # the date in the held-back files' names
    held_back: list[Path]  # the last day's files, as they are in the landing folder now
    history_db: Path  # a copy of the warehouse file as the history's load left it (raw tables only are read)
    history_lake: Path  # a copy of the lake as the history's load left it
    db: Path
    lake: Path
    history_marts: dict[str, pd.DataFrame]
    marts: dict[str, pd.DataFrame]  # after the increment
    increment_compiled: dict[str, str]  # the increment's compiled SQL of each model it ran
    incremental_models: set[str]  # the models materialized incremental on DuckDB
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PostgresNightly:
    """The nightly fixture's history and increment on PostgreSQL, in a database of its own."""

    server: Postgres
    database: str
    history_marts: dict[str, pd.DataFrame]
    marts: dict[str, pd.DataFrame]
    increment_compiled: dict[str, str]
    seconds: dict[str, float]


@dataclass(frozen=True)
class SparkNightly:
    warehouse: Path  # Spark's warehouse folder: the marts are Parquet tables under marts.db/
    history_marts: dict[str, pd.DataFrame]
    marts: dict[str, pd.DataFrame]
    materialized: dict[str, str]  # model name -> materialization on Spark
    executed: set[str]  # the models the increment's `dbt run` ran
    seconds: dict[str, float]


def duckdb_marts(db: Path) -> dict[str, pd.DataFrame]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        return {name: con.execute(f"select * from marts.{name}").df() for (name,) in tables}


def dbt_in(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """dbt in ``cwd`` (Spark's session keeps its metastore there) with extra environment; fails with its output."""
    result = subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-3000:]}")
    return result


def run_results(target_path: Path) -> dict[str, dict]:
    """The last dbt invocation's results by model name."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r for r in results if r["unique_id"].startswith("model.")}


def materializations(target_path: Path) -> dict[str, str]:
    """The materialization of every enabled model, from the manifest dbt wrote last."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    nodes = manifest["nodes"].values()
    return {node["name"]: node["config"]["materialized"] for node in nodes if node["resource_type"] == "model"}


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """The bundled sample loaded once, then built on DuckDB (its marts read into memory)."""
    import duckdb

    root = tmp_path_factory.mktemp("engines")
    db, lake = root / "warehouse" / "warehouse.duckdb", root / "lake"
    db.parent.mkdir()
    with environment({"CONTACT_WAREHOUSE_DB": str(db), "CONTACT_WAREHOUSE_LAKE": str(lake)}):
        load_landing(db, SAMPLE)
        started = time.monotonic()
        run_dbt(["seed"], db)
        run_dbt(["run", "--exclude", *PYTHON_MODELS], db)
        print(f"duckdb: dbt seed + run in {time.monotonic() - started:.0f} s")  # README "Scaling out" (pytest -s)
    marts = duckdb_marts(db)
    with duckdb.connect(str(db), read_only=True) as con:
        fcr = con.execute("select count(*) from marts.fct_engagements where is_first_contact_resolved").fetchall()
    # The sample must be long enough for the windowed KPIs to mean something.
    assert fcr[0][0] > 0
    yield Sample(root, db, lake, marts)


def hold_back_last_day(landing: Path, aside: Path) -> tuple[str, list[Path]]:
    """Moves the files of the sample's last day (the latest date in the file names) out of the landing folder, as
    if they had not been delivered yet. An export with one file only (the CRM and FAQ snapshots) keeps it: the
    history needs its customers and articles. Returns the day and where its files go back to."""
    days = {path: re.search(r"_(\d{4}-\d{2}-\d{2})[._]", path.name) for path in landing.glob("*/*")}
    dated = {path: found.group(1) for path, found in days.items() if found and path.is_file()}
    last_day = max(dated.values())
    held_back = []
    for path, day in sorted(dated.items()):
        if day == last_day and len(list(path.parent.iterdir())) > 1:
            target = aside / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            held_back.append(path)
    assert held_back, f"no file of the last day {last_day} in {landing}"
    return last_day, held_back


@pytest.fixture(scope="session")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nightly]:
    """The sample as history (built from scratch), then its last day as a nightly increment, on DuckDB."""
    root = tmp_path_factory.mktemp("nightly")
    landing, aside = root / "landing", root / "last_day"
    shutil.copytree(SAMPLE, landing)
    last_day, held_back = hold_back_last_day(landing, aside)
    db, lake = root / "warehouse" / "warehouse.duckdb", root / "lake"
    db.parent.mkdir()
    history_db, history_lake = root / "history" / "warehouse.duckdb", root / "history" / "lake"
    seconds: dict[str, float] = {}
    with environment({"CONTACT_WAREHOUSE_DB": str(db), "CONTACT_WAREHOUSE_LAKE": str(lake)}):
        load_landing(db, landing)
        history_db.parent.mkdir()
        shutil.copy(db, history_db)
        shutil.copytree(lake, history_lake)
        started = time.monotonic()
        run_dbt(["seed"], db)
        run_dbt(["run", "--exclude", *PYTHON_MODELS], db)
        seconds["history"] = time.monotonic() - started
        history_marts = duckdb_marts(db)
        # The day lands (copy2 keeps the files' times, as a delivery that settled) and the nightly run loads it.
        for path in held_back:
            shutil.copy2(aside / path.relative_to(landing), path)
        load_landing(db, landing)
        started = time.monotonic()
        run_dbt(["run", "--exclude", *PYTHON_MODELS], db)
        seconds["increment"] = time.monotonic() - started
        compiled = {name: r["compiled_code"] for name, r in run_results(DBT_PROJECT_DIR / "target").items()}
        incremental = materializations(DBT_PROJECT_DIR / "target")
    print(f"duckdb: history seed + run {seconds['history']:.0f} s, increment run {seconds['increment']:.0f} s")
    yield Nightly(
        root,
        last_day,
        held_back,
        history_db,
        history_lake,
        db,
        lake,
        history_marts,
        duckdb_marts(db),
        compiled,
        {name for name, kind in incremental.items() if kind == "incremental"},
        seconds,
    )


def spark_setup() -> None:
    """Java for Spark's session mode (tests/spark_setup.sh); skips when it cannot be installed."""
    setup = subprocess.run(["bash", str(TESTS / "spark_setup.sh")], capture_output=True, text=True)
    if setup.returncode == NO_APT:
        pytest.skip(f"Java is not installed and cannot be: {setup.stderr.strip()}")
    assert setup.returncode == 0, f"tests/spark_setup.sh failed:\n{setup.stdout[-3000:]}{setup.stderr}"


def spark_marts(warehouse: Path, like: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The marts Spark wrote: Parquet tables under its warehouse folder, read without a second Spark session. Spark
    writes no file for an empty table: such a mart is read as ``like``'s table with no rows."""
    import duckdb

    marts = {}
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for folder in sorted(glob.glob(str(warehouse / "marts.db" / "*"))):
            name, files = Path(folder).name, glob.glob(f"{folder}/**/*.parquet", recursive=True)
            marts[name] = con.execute(f"select * from read_parquet({files!r})").df() if files else like[name].iloc[:0]
    return marts


@pytest.fixture(scope="session")
def spark_nightly(nightly: Nightly) -> Iterator[SparkNightly]:
    """The nightly fixture's history and increment on Spark (session mode, ``local[2]``)."""
    spark_setup()
    work = nightly.root / "spark"
    work.mkdir()
    warehouse, lake, target_path = work / "spark-warehouse", work / "lake", work / "target"
    shutil.copytree(nightly.history_lake, lake)
    env = {"CONTACT_WAREHOUSE_SPARK_WAREHOUSE": str(warehouse), "CONTACT_WAREHOUSE_LAKE": str(lake)}
    target = ["--target", "spark", "--target-path", str(target_path)]
    seconds: dict[str, float] = {}
    dbt_in(["run-operation", "create_lake_tables", *target], work, env)
    started = time.monotonic()
    dbt_in(["seed", *target], work, env)
    # The history builds the models incremental on DuckDB (tables here) and what they read, not every model: the
    # increment then runs over a warehouse that holds them, as a nightly run does, and rebuilds each over the grown
    # lake; the other models' SQL is built once, by the increment, and compared with DuckDB's full build
    # (test_engines.py). A whole history build on Spark cost minutes and proved nothing more.
    history = sorted(f"+{name}" for name in nightly.incremental_models - set(PYTHON_STEP_MODELS))
    dbt_in(["run", *target, *DBT_BEFORE_STEP, "--select", *history], work, env)
    seconds["history"] = time.monotonic() - started
    history_marts = spark_marts(warehouse, nightly.history_marts)
    # The loader's append: the day's load folders (and its one-file ledger tables) join the lake. The external
    # tables read their folders at query time: no DDL.
    shutil.copytree(nightly.lake, lake, dirs_exist_ok=True)
    started = time.monotonic()
    dbt_in(["run", *target, *DBT_BEFORE_STEP], work, env)
    seconds["increment"] = time.monotonic() - started
    executed = {name for name, r in run_results(target_path).items() if r["status"] == "success"}
    materialized = materializations(target_path)
    print(f"spark: history seed + run {seconds['history']:.0f} s, increment run {seconds['increment']:.0f} s")
    yield SparkNightly(warehouse, history_marts, spark_marts(warehouse, nightly.marts), materialized, executed, seconds)


def _connect(server: Postgres, database: str | None = None):
    import psycopg2

    return psycopg2.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        dbname=database or server.database,
    )


def load_postgres(server: Postgres, db: Path, database: str | None = None) -> None:
    """The raw tables of the DuckDB file, copied to PostgreSQL's schema raw as the nightly job's dbt step does for the
    postgres target: again on a database that has them, the rows of the loads it lacks."""
    sync_raw_tables(db, postgres_env(server, database))


def postgres_env(server: Postgres, database: str | None = None) -> dict[str, str]:
    """The variables the profile's postgres target reads."""
    return {
        "CONTACT_WAREHOUSE_PG_HOST": server.host,
        "CONTACT_WAREHOUSE_PG_PORT": str(server.port),
        "CONTACT_WAREHOUSE_PG_USER": server.user,
        "CONTACT_WAREHOUSE_PG_PASSWORD": server.password,
        "CONTACT_WAREHOUSE_PG_DB": database or server.database,
    }


def postgres_marts(server: Postgres, database: str | None = None) -> dict[str, pd.DataFrame]:
    con = _connect(server, database)
    try:
        with con.cursor() as cur:
            cur.execute("select table_name from information_schema.tables where table_schema = 'marts'")
            names = [row[0] for row in cur.fetchall()]
        marts = {}
        for name in names:
            with con.cursor() as cur:
                cur.execute(f'select * from marts."{name}"')
                marts[name] = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
        return marts
    finally:
        con.close()


@pytest.fixture(scope="session")
def postgres_nightly(nightly: Nightly, postgres: Postgres) -> Iterator[PostgresNightly]:  # noqa: F811
    """The nightly fixture's history and increment on PostgreSQL (database ``nightly`` of the session's server): the
    raw tables as the history's load left them, seed + run; then the day's rows appended, run."""
    database = "nightly"
    con = _connect(postgres)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f"create database {database}")
    finally:
        con.close()
    env = postgres_env(postgres, database)
    work = nightly.root / "postgres"
    work.mkdir()
    target_path = work / "target"
    target = ["--target", "postgres", "--target-path", str(target_path)]
    seconds: dict[str, float] = {}
    load_postgres(postgres, nightly.history_db, database)
    started = time.monotonic()
    dbt_in(["seed", *target], work, env)
    dbt_in(["run", *target, *DBT_BEFORE_STEP], work, env)
    seconds["history"] = time.monotonic() - started
    history_marts = postgres_marts(postgres, database)
    load_postgres(postgres, nightly.db, database)  # the day's rows appended
    started = time.monotonic()
    dbt_in(["run", *target, *DBT_BEFORE_STEP], work, env)
    seconds["increment"] = time.monotonic() - started
    compiled = {name: result["compiled_code"] for name, result in run_results(target_path).items()}
    print(f"postgres: history seed + run {seconds['history']:.0f} s, increment run {seconds['increment']:.0f} s")
    yield PostgresNightly(postgres, database, history_marts, postgres_marts(postgres, database), compiled, seconds)
