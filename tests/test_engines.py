"""The same dbt project on DuckDB, Spark and PostgreSQL, with the same marts (issue 21, README "Scaling out").

The bundled sample (a month of exports: first-contact resolution and the other windowed KPIs are non-zero) is
loaded once by the loader, which writes the raw tables and the Parquet lake. DuckDB builds from its raw tables;
Spark (session mode, ``local[2]``, Java from tests/spark_setup.sh) reads the lake as external tables
(``dbt run-operation create_lake_tables``); PostgreSQL (the throw-away server of tests/test_postgres.py) gets the
raw tables copied from DuckDB. Each engine runs ``dbt seed`` and ``dbt run``; every mart it builds is then compared
with DuckDB's row for row, in any order, doubles within a relative 1e-9 (a sum of doubles depends on the order an
engine adds them in). Spark's marts are those of its nightly increment (tests/engine_builds.py, spark_nightly): on
plain Parquet tables that run rebuilds every model over the whole lake, so it is this build, and Spark (the slowest
engine) builds every model once per session (its history builds only the models incremental on DuckDB and their
ancestors; tests/test_engines_python.py only what the Python step reads and what reads its tables).

PostgreSQL then runs ``dbt test`` too: every data and unit test of the models it builds must pass there.

Left out, and why:
- dbt's data and unit tests on Spark: in session mode on ``local[2]`` they would triple the time (each of them plans
  and runs its own Spark job); DuckDB's build runs them in the rest of the suite, PostgreSQL's here, and this test
  holds Spark's marts themselves equal instead.
- the dbt Python models and the marts built on them (DUCKDB_ONLY_MARTS): off DuckDB the Python step builds them
  between two dbt runs (``DBT_BEFORE_STEP`` here leaves out what reads its tables); tests/test_engines_python.py.
- the column ``_input_fingerprint``: a hash of each customer's input rows that only says whether the customer
  changed; DuckDB computes it with its own hash() (macros/incremental_customers.sql), so it differs by design.
- the column ``_load_seq`` (``fct_events``): the load that brought each event's row, numbered by the loader in the
  order the warehouse was loaded (a history then a day, or everything at once), not by what the row says.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from engine_builds import Postgres, Sample, SparkNightly, load_postgres, postgres_env, postgres_marts
from engine_builds import dbt_in as _dbt

from contact_warehouse.engine.python_steps import DBT_BEFORE_STEP

pytestmark = pytest.mark.engines
# The shared warehouses (sample, nightly, spark_nightly, the PostgreSQL server): built once per session for every
# engine test module.
pytest_plugins = ["engine_builds"]
# dbt_project.yml enables these on DuckDB only (dbt Python models, or marts built on them).
DUCKDB_ONLY_MARTS = {
    "mart_churn_predictions",
    "mart_prediction_calibration",
    "mart_prediction_evaluation",
    "mart_repeat_contact_predictions",
    "mart_staffing_actuals",
    "mart_staffing_forecast",
    "mart_staffing_forecast_accuracy",
}
ENGINE_SPECIFIC_COLUMNS = {"_input_fingerprint", "_load_seq"}
RELATIVE_TOLERANCE = 1e-9


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


def test_postgres_builds_the_same_marts_as_duckdb(sample: Sample, postgres: Postgres) -> None:
    load_postgres(postgres, sample.db)
    env = postgres_env(postgres)
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
    assert_marts_equal(sample.marts, postgres_marts(postgres))


def test_spark_builds_the_same_marts_as_duckdb(sample: Sample, spark_nightly: SparkNightly) -> None:
    # Spark's marts after the nightly increment (engine_builds.py): on plain Parquet tables that run rebuilds every
    # model over the whole lake, the same build as one from scratch (test_engines_increment.py checks it rebuilt).
    assert_marts_equal(sample.marts, spark_nightly.marts)
