"""The dbt Python models (staffing forecast and actuals, predictions) and the marts built on them on PostgreSQL and
Spark, through the Python step (contact_warehouse/engine/python_steps.py), equal to DuckDB's dbt Python models.

DuckDB: the sample of tests/test_engines.py (built without the Python models), copied, then the Python models and
everything downstream built by dbt. PostgreSQL: a database of its own on the throw-away server of
tests/test_postgres.py, the raw tables copied as tests/test_engines.py does, then ``dbt seed``, ``dbt run`` of all
but what reads the step's tables, the step, ``dbt run`` of those (``python_steps.dbt_invocations``) and their data
tests. Spark (session mode, ``local[2]``, over the sample's lake as tests/test_engines.py): the same without the
data tests (tests/test_engines.py says why), and its first ``dbt run`` builds only the SQL models the step reads and
those its readers read (every SQL model on Spark is compared with DuckDB's in tests/test_engines.py). Every table
of the 7 Python models and the 3 staffing marts on them is compared row for row, in any order, doubles within a
relative 1e-9 (tests/test_engines.py's comparison).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_dbt
from engine_builds import NO_APT, Postgres, Sample
from engine_builds import dbt_in as _dbt
from engine_builds import load_postgres as _load_postgres
from test_engines import mart_differences

from contact_warehouse.engine.python_models import MODELS, PYTHON_MODELS
from contact_warehouse.engine.python_steps import (
    DBT_AFTER_STEP,
    SOURCE,
    STEP,
    dbt_invocations,
    engine_for,
    profile_output,
)
from contact_warehouse.predictions.incremental import FINGERPRINT
from contact_warehouse.settings import DBT_PROJECT_DIR

# The shared sample and PostgreSQL server of the engine tests (tests/engine_builds.py), built once per session.
pytest_plugins = ["engine_builds"]

# The step's tables and the SQL marts that read them (source python_models): (schema, table).
COMPARED = [(model.schema, model.name) for model in PYTHON_MODELS] + [
    ("marts", "mart_staffing_actuals"),
    ("marts", "mart_staffing_forecast"),
    ("marts", "mart_staffing_forecast_accuracy"),
]


def _differences(key: tuple[str, str], expected: pd.DataFrame, actual: pd.DataFrame) -> str | None:
    """``mart_differences`` without int_prediction_rows' input fingerprint: a hash of the exact input values each
    engine handed the step (doubles equal within the tolerance hash apart), read only by DuckDB's next incremental
    run (DECISIONS.md "int_prediction_rows is incremental")."""
    expected, actual = (frame.drop(columns=[FINGERPRINT], errors="ignore") for frame in (expected, actual))
    return mart_differences(".".join(key), expected, actual)


def test_each_dbt_python_model_hands_its_body_the_inputs_the_step_reads() -> None:
    """dbt finds a Python model's inputs in its file's literal dbt.ref() calls, the step in python_models.MODELS:
    the two lists must name the same models, else one engine builds from other inputs than the other."""
    files = {path.stem: path for path in (DBT_PROJECT_DIR / "models").rglob("*.py")}
    assert set(files) == set(MODELS)
    for name, path in files.items():
        refs = [
            call.args[0].value
            for call in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "ref"
            and isinstance(call.args[0], ast.Constant)
        ]
        assert sorted(refs) == sorted(MODELS[name].inputs), path
        # ... and the body it calls is the registered one.
        assert f"import Params, {MODELS[name].body.__name__}\n" in path.read_text(encoding="utf-8"), path


def test_duckdb_runs_dbt_alone_other_engines_run_the_step_between_two_selections() -> None:
    assert dbt_invocations("duckdb", ["build", "--vars", "{}"]) == [["build", "--vars", "{}"]]
    before, step, after = dbt_invocations("postgres", ["run"])
    assert (before, step, after) == (["run", "--exclude", "source:python_models+"], STEP, ["run", *DBT_AFTER_STEP])
    with pytest.raises(ValueError, match="no --select here"):
        dbt_invocations("spark", ["run", "--select", "marts"])


def test_the_step_connects_with_the_profile_dbt_uses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONTACT_WAREHOUSE_PG_PORT", "6543")
    monkeypatch.setenv("CONTACT_WAREHOUSE_PG_DB", "lake")
    output = profile_output("postgres")
    assert (output["type"], str(output["port"]), output["dbname"]) == ("postgres", "6543", "lake")
    assert engine_for("postgres", tmp_path).port == 6543
    with pytest.raises(ValueError, match="no target 'oracle'"):
        profile_output("oracle")
    monkeypatch.setenv("CONTACT_WAREHOUSE_SPARK_WAREHOUSE", "/lake/spark-warehouse")
    spark = engine_for("spark", tmp_path)  # the session starts on first use, not here
    assert spark.parameters["spark.sql.warehouse.dir"] == "/lake/spark-warehouse"
    assert spark.parameters["spark.sql.constraintPropagation.enabled"] == "false"


@dataclass(frozen=True)
class DuckDBTables:
    db: Path
    tables: dict[tuple[str, str], pd.DataFrame]


@pytest.fixture(scope="session")
def duckdb_python_tables(sample: Sample) -> DuckDBTables:  # noqa: F811
    """The sample's DuckDB file, copied, with the dbt Python models and what reads them built by dbt."""
    import duckdb

    db = sample.root / "python-models" / "warehouse.duckdb"
    db.parent.mkdir()
    shutil.copy(sample.db, db)
    started = time.monotonic()
    run_dbt(["run", "--select", *(f"{model.name}+" for model in PYTHON_MODELS)], db)
    print(f"duckdb: dbt run of the Python models and their marts in {time.monotonic() - started:.0f} s")
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {(schema, name): con.execute(f'select * from "{schema}"."{name}"').df() for schema, name in COMPARED}
    return DuckDBTables(db, tables)


@pytest.mark.engines
def test_postgres_builds_the_python_models_and_their_marts_as_duckdb(
    sample: Sample,  # noqa: F811
    postgres: Postgres,  # noqa: F811
    duckdb_python_tables: DuckDBTables,
) -> None:
    server = replace(postgres, database="python_models")
    import psycopg2

    admin = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("create database python_models")
    admin.close()
    _load_postgres(server, sample.db)
    env = {
        "CONTACT_WAREHOUSE_PG_HOST": server.host,
        "CONTACT_WAREHOUSE_PG_PORT": str(server.port),
        "CONTACT_WAREHOUSE_PG_USER": server.user,
        "CONTACT_WAREHOUSE_PG_PASSWORD": server.password,
        "CONTACT_WAREHOUSE_PG_DB": server.database,
    }
    work = sample.root / "postgres-python-models"
    work.mkdir()
    target = ["--target", "postgres", "--target-path", str(work / "target")]
    _dbt(["seed", *target], work, env)
    _run_around_the_step("postgres", target, work, env)
    started = time.monotonic()
    # The data tests of the marts on the step's tables.
    _dbt(["test", *target, *DBT_AFTER_STEP], work, env)
    print(f"postgres: dbt test of the marts on the step's tables {time.monotonic() - started:.0f} s")

    con = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname=server.database
    )
    try:
        tables = {}
        for schema, name in COMPARED:
            with con.cursor() as cur:
                cur.execute(f'select * from "{schema}"."{name}"')
                tables[schema, name] = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    finally:
        con.close()
    expected = duckdb_python_tables.tables
    # Not vacuous: the sample gives every table rows but the churn scores (a month of data: no customer has the
    # 30 days of known outcome before the data's end that training needs, docs/predictions.md).
    assert [key for key, frame in expected.items() if frame.empty] == [("marts", "mart_churn_predictions")]
    differences = [
        difference for key in COMPARED if (difference := _differences(key, expected[key], tables[key])) is not None
    ]
    assert differences == [], "\n".join(differences)


def _step_needs() -> list[str]:
    """dbt selectors of the SQL models the Python step and what reads its tables need, and nothing else: the step's
    inputs (PYTHON_MODELS' inputs that are SQL models) with their ancestors, and every other parent (with its
    ancestors) of the models on the step's tables (``@``)."""
    python = {model.name for model in PYTHON_MODELS}
    inputs = sorted({name for model in PYTHON_MODELS for name in model.inputs} - python)
    return ["--select", f"@source:{SOURCE}", *(f"+{name}" for name in inputs)]


def _run_around_the_step(
    target_name: str, target: list[str], work: Path, env: dict[str, str], *, only_needed: bool = False
) -> str:
    """dbt run, the Python step, dbt run of what reads its tables (dbt_invocations); returns the step's output and
    prints the times. ``only_needed``: the first dbt run builds only the SQL models the step and its readers need
    (``_step_needs``), not every other model too."""
    started, timings, output = time.monotonic(), [], ""
    invocations = dbt_invocations(target_name, ["run", *target])
    if only_needed:
        invocations[0] = [*invocations[0], *_step_needs()]
    for invocation in invocations:
        if invocation is STEP:
            step = subprocess.run(
                [sys.executable, "-m", "contact_warehouse.engine.python_steps", "--target", target_name],
                env={**os.environ, **env},
                cwd=work,
                capture_output=True,
                text=True,
            )
            assert step.returncode == 0, f"the Python step failed:\n{step.stdout[-3000:]}\n{step.stderr[-5000:]}"
            output = step.stdout
        else:
            _dbt(invocation, work, env)
        timings.append(time.monotonic() - started)
    print(
        f"{target_name}: dbt run {timings[0]:.0f} s, Python step {timings[1] - timings[0]:.0f} s, dbt run of the "
        f"marts on it {timings[2] - timings[1]:.0f} s\n{output}"
    )
    return output


@pytest.mark.engines
def test_spark_builds_the_python_models_and_their_marts_as_duckdb(
    sample: Sample,  # noqa: F811
    duckdb_python_tables: DuckDBTables,
) -> None:
    import glob

    import duckdb

    setup = subprocess.run(["bash", str(Path(__file__).parent / "spark_setup.sh")], capture_output=True, text=True)
    if setup.returncode == NO_APT:
        pytest.skip(f"Java is not installed and cannot be: {setup.stderr.strip()}")
    assert setup.returncode == 0, f"tests/spark_setup.sh failed:\n{setup.stdout[-3000:]}{setup.stderr}"
    work = sample.root / "spark-python-models"
    work.mkdir()
    warehouse = work / "spark-warehouse"
    env = {"CONTACT_WAREHOUSE_SPARK_WAREHOUSE": str(warehouse), "CONTACT_WAREHOUSE_LAKE": str(sample.lake)}
    target = ["--target", "spark", "--target-path", str(work / "target")]
    _dbt(["run-operation", "create_lake_tables", *target], work, env)
    _dbt(["seed", *target], work, env)
    # Only what the step reads and what reads the step's tables: every SQL model is built on Spark, over the same
    # lake, and compared with DuckDB's by tests/test_engines.py (spark_nightly); a whole second Spark build here
    # proved nothing more and cost minutes.
    _run_around_the_step("spark", target, work, env, only_needed=True)
    tables = {}
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for schema, name in COMPARED:
            files = glob.glob(f"{warehouse}/{schema}.db/{name}/**/*.parquet", recursive=True)
            expected = duckdb_python_tables.tables[schema, name]
            # Spark writes no file for an empty table.
            tables[schema, name] = con.execute(f"select * from read_parquet({files!r})").df() if files else expected[:0]
    differences = [
        difference
        for key in COMPARED
        if (difference := _differences(key, duckdb_python_tables.tables[key], tables[key])) is not None
    ]
    assert differences == [], "\n".join(differences)
