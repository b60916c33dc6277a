"""The same dbt project on DuckDB, Spark and PostgreSQL, with the same marts (issue 21, README "Scaling out").

The bundled sample (a month of exports: first-contact resolution and the other windowed KPIs are non-zero) is
loaded once by the loader, which writes the raw tables and the Parquet lake. DuckDB builds from its raw tables;
Spark (session mode, ``local[2]``, Java from tests/spark_setup.sh) reads the lake as external tables
(``dbt run-operation create_lake_tables``); PostgreSQL (the throw-away server of tests/test_postgres.py) gets the
raw tables copied from DuckDB. Each engine runs ``dbt seed`` and ``dbt run``; every mart it builds is then compared
with DuckDB's row for row, in any order, doubles within a relative 1e-9 (a sum of doubles depends on the order an
engine adds them in).

PostgreSQL then runs ``dbt test`` too: every data and unit test of the models it builds must pass there.

Left out, and why:
- dbt's data and unit tests on Spark: in session mode on ``local[2]`` they would triple the time (each of them plans
  and runs its own Spark job); DuckDB's build runs them in the rest of the suite, PostgreSQL's here, and this test
  holds Spark's marts themselves equal instead.
- the dbt Python models and the marts built on them (DUCKDB_ONLY_MARTS): off DuckDB the Python step builds them
  between two dbt runs (``DBT_BEFORE_STEP`` here leaves out what reads its tables); tests/test_engines_python.py.
- the column ``_input_fingerprint``: a hash of each customer's input rows that only says whether the customer
  changed; DuckDB computes it with its own hash() (macros/incremental_customers.sql), so it differs by design.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import environment, load_landing, run_dbt
from test_postgres import Postgres, postgres  # noqa: F401  (the throw-away PostgreSQL server fixture)

from contact_warehouse.engine.python_steps import DBT_BEFORE_STEP
from contact_warehouse.settings import DBT_PROJECT_DIR, ROOT, dbt_executable

pytestmark = pytest.mark.engines

TESTS = Path(__file__).parent
NO_APT = 3  # spark_setup.sh: no apt-get
SAMPLE = ROOT / "seeds"
# dbt Python models (dbt_project.yml enables them on DuckDB only) and the marts on them (left out by DBT_BEFORE_STEP).
DUCKDB_ONLY_MARTS = {
    "mart_churn_predictions",
    "mart_prediction_calibration",
    "mart_prediction_evaluation",
    "mart_repeat_contact_predictions",
    "mart_staffing_actuals",
    "mart_staffing_forecast",
    "mart_staffing_forecast_accuracy",
}
ENGINE_SPECIFIC_COLUMNS = {"_input_fingerprint"}
PYTHON_MODELS = ["int_staffing_forecast+", "int_staffing_actuals+", "int_prediction_rows+"]
RELATIVE_TOLERANCE = 1e-9
# DuckDB's types -> PostgreSQL's, for the raw tables copied over.
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


@dataclass(frozen=True)
class Sample:
    root: Path
    db: Path
    lake: Path
    marts: dict[str, pd.DataFrame]  # DuckDB's marts


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
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        names = [row[0] for row in tables]
        marts = {name: con.execute(f"select * from marts.{name}").df() for name in names}
        fcr = con.execute("select count(*) from marts.fct_engagements where is_first_contact_resolved").fetchall()
    # The sample must be long enough for the windowed KPIs to mean something.
    assert fcr[0][0] > 0
    yield Sample(root, db, lake, marts)


def _dbt(args: list[str], cwd: Path, env: dict[str, str]) -> None:
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


def _neutral(value: object) -> object:
    """A decimal as a float, a date or datetime (PostgreSQL's driver) as the text pandas' datetimes get below."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine-neutral values: no zone on timestamps, decimals as floats, NULL as None."""
    frame = frame.drop(columns=[c for c in frame.columns if c in ENGINE_SPECIFIC_COLUMNS]).copy()
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(values):
            frame[column] = values.dt.strftime("%Y-%m-%d %H:%M:%S.%f").where(values.notna(), None)
        elif values.dtype == object:
            frame[column] = values.map(_neutral)
    return frame


def mart_differences(name: str, expected: pd.DataFrame, actual: pd.DataFrame) -> str | None:
    """None when the two tables hold the same rows in any order (doubles within RELATIVE_TOLERANCE), else what
    differs first."""
    expected, actual = _comparable(expected), _comparable(actual)
    if set(expected.columns) != set(actual.columns):
        return f"{name}: columns differ: {sorted(set(expected.columns) ^ set(actual.columns))}"
    actual = actual[list(expected.columns)]
    if len(expected) != len(actual):
        return f"{name}: {len(expected)} rows on DuckDB, {len(actual)} here"
    is_float = pd.api.types.is_float_dtype
    floats = [c for c in expected.columns if is_float(expected[c]) or is_float(actual[c])]
    keys = [c for c in expected.columns if c not in floats]
    for frame in (expected, actual):
        for c in floats:
            frame[c] = pd.to_numeric(frame[c]).astype(float)
        for c in keys:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None).map(str)
    expected = expected.sort_values(keys + floats, na_position="first").reset_index(drop=True)
    actual = actual.sort_values(keys + floats, na_position="first").reset_index(drop=True)
    for c in keys:
        differs = expected[c] != actual[c]
        if differs.any():
            i = int(differs.idxmax())
            example = f"{expected.at[i, c]!r} on DuckDB, {actual.at[i, c]!r} here"
            return f"{name}.{c}: {differs.sum()} rows differ, e.g. {example}"
    for c in floats:
        x, y = expected[c].to_numpy(), actual[c].to_numpy()
        same = np.isclose(x, y, rtol=RELATIVE_TOLERANCE, atol=1e-12, equal_nan=True)
        if not same.all():
            i = int(np.argmin(same))
            return f"{name}.{c}: {(~same).sum()} rows differ, e.g. {x[i]!r} on DuckDB, {y[i]!r} here"
    return None


def assert_marts_equal(duckdb_marts: dict[str, pd.DataFrame], engine_marts: dict[str, pd.DataFrame]) -> None:
    # The DuckDB build here leaves the Python models out too (PYTHON_MODELS), so both hold the same marts.
    assert set(engine_marts) & DUCKDB_ONLY_MARTS == set()
    assert set(engine_marts) == set(duckdb_marts)
    differences = [
        difference
        for name in sorted(engine_marts)
        if (difference := mart_differences(name, duckdb_marts[name], engine_marts[name])) is not None
    ]
    assert differences == [], "\n".join(differences)


def test_the_comparison_sees_a_changed_value_a_missing_row_and_a_float_beyond_the_tolerance() -> None:
    mart = pd.DataFrame({"key": ["a", "b"], "n": [1, 2], "x": [0.1 + 0.2, 1.0]})
    assert mart_differences("m", mart, mart.iloc[::-1].assign(x=[1.0, 0.3])) is None
    assert "m.n" in mart_differences("m", mart, mart.assign(n=[1, 3]))
    assert "2 rows on DuckDB, 1 here" in mart_differences("m", mart, mart.iloc[:1])
    assert "m.x" in mart_differences("m", mart, mart.assign(x=[0.3, 1.0 + 1e-6]))
    # DuckDB's dates come as datetime64, PostgreSQL's as date objects.
    days = pd.DataFrame({"day": pd.to_datetime(["2026-10-01", "2026-10-02"])})
    assert mart_differences("d", days, pd.DataFrame({"day": [dt.date(2026, 10, 2), dt.date(2026, 10, 1)]})) is None
    assert "d.day" in mart_differences("d", days, pd.DataFrame({"day": [dt.date(2026, 10, 3), dt.date(2026, 10, 1)]}))


def _load_postgres(server: Postgres, db: Path) -> None:
    """The raw tables of the DuckDB file, copied to PostgreSQL's schema raw (CSV through COPY)."""
    import duckdb
    import psycopg2

    con = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname=server.database
    )
    con.autocommit = True
    try:
        with duckdb.connect(str(db), read_only=True) as source, con.cursor() as cur:
            cur.execute("create schema raw")
            listed = source.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
            tables = [row[0] for row in listed]
            for table in tables:
                columns = source.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                unknown = [f"{name} {kind}" for name, kind in columns if kind not in POSTGRES_TYPES]
                assert not unknown, f"raw.{table}: no PostgreSQL type for {unknown}"
                cur.execute(
                    f'create table raw."{table}" ('
                    + ", ".join(f'"{name}" {POSTGRES_TYPES[kind]}' for name, kind in columns)
                    + ")"
                )
                csv = db.parent / f"{table}.csv"
                source.execute(f"copy raw.\"{table}\" to '{csv}' (header false)")
                with csv.open() as rows:
                    cur.copy_expert(f'copy raw."{table}" from stdin with (format csv)', rows)
                csv.unlink()
    finally:
        con.close()


def test_postgres_builds_the_same_marts_as_duckdb(sample: Sample, postgres: Postgres) -> None:  # noqa: F811
    _load_postgres(postgres, sample.db)
    env = {
        "CONTACT_WAREHOUSE_PG_HOST": postgres.host,
        "CONTACT_WAREHOUSE_PG_PORT": str(postgres.port),
        "CONTACT_WAREHOUSE_PG_USER": postgres.user,
        "CONTACT_WAREHOUSE_PG_PASSWORD": postgres.password,
        "CONTACT_WAREHOUSE_PG_DB": postgres.database,
    }
    work = sample.root / "postgres"
    work.mkdir()
    target = ["--target", "postgres", "--target-path", str(work / "target")]
    started = time.monotonic()
    _dbt(["seed", *target], work, env)
    _dbt(["run", *target, *DBT_BEFORE_STEP], work, env)
    print(f"postgres: dbt seed + run in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    # The data and unit tests too (the Python models and what reads them are disabled off DuckDB, so the same
    # selection as the run): they must pass on PostgreSQL as they do on DuckDB.
    _dbt(["test", *target, *DBT_BEFORE_STEP], work, env)
    print(f"postgres: dbt test in {time.monotonic() - started:.0f} s")
    tables = postgres.query("select table_name from information_schema.tables where table_schema = 'marts'")
    names = [row[0] for row in tables]
    import psycopg2

    con = psycopg2.connect(
        host=postgres.host, port=postgres.port, user=postgres.user, password=postgres.password, dbname=postgres.database
    )
    try:
        marts = {}
        for name in names:
            with con.cursor() as cur:
                cur.execute(f'select * from marts."{name}"')
                marts[name] = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    finally:
        con.close()
    assert_marts_equal(sample.marts, marts)


def test_spark_builds_the_same_marts_as_duckdb(sample: Sample) -> None:
    import duckdb

    setup = subprocess.run(["bash", str(TESTS / "spark_setup.sh")], capture_output=True, text=True)
    if setup.returncode == NO_APT:
        pytest.skip(f"Java is not installed and cannot be: {setup.stderr.strip()}")
    assert setup.returncode == 0, f"tests/spark_setup.sh failed:\n{setup.stdout[-3000:]}{setup.stderr}"
    work = sample.root / "spark"
    work.mkdir()
    warehouse = work / "spark-warehouse"
    env = {"CONTACT_WAREHOUSE_SPARK_WAREHOUSE": str(warehouse), "CONTACT_WAREHOUSE_LAKE": str(sample.lake)}
    target = ["--target", "spark", "--target-path", str(work / "target")]
    _dbt(["run-operation", "create_lake_tables", *target], work, env)
    started = time.monotonic()
    _dbt(["seed", *target], work, env)
    _dbt(["run", *target, *DBT_BEFORE_STEP], work, env)
    print(f"spark: dbt seed + run in {time.monotonic() - started:.0f} s")
    # The marts are Parquet tables under the Spark warehouse folder: read them without a second Spark session.
    marts = {}
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for folder in sorted(glob.glob(str(warehouse / "marts.db" / "*"))):
            name, files = Path(folder).name, glob.glob(f"{folder}/**/*.parquet", recursive=True)
            marts[name] = con.execute(f"select * from read_parquet({files!r})").df() if files else None
    for name, frame in marts.items():
        if frame is None:  # Spark writes no file for an empty table
            marts[name] = sample.marts[name].iloc[:0]
    assert_marts_equal(sample.marts, marts)
