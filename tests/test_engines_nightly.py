"""A whole nightly run on PostgreSQL as a user runs it (issue 21, README "Scaling out"): `contact-warehouse run` with
CONTACT_WAREHOUSE_DBT_TARGET=postgres on the small landing folder (tests/small_landing.py). The job copies the raw
rows to PostgreSQL, builds there around the Python step (contact_warehouse/engine/nightly_dbt.py), copies the marts
and the staging tables the expectation suites check back into the build file, checks, publishes and reports.

It must succeed, and its serving file must hold every table of the same run on DuckDB (conftest.py's ``small_run``:
same landing, same vars, same key) with the same rows, the staffing and prediction marts of the dbt Python models
included (tests/test_engines.py's comparison: any order, doubles within a relative 1e-9).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import CliRun, cli, user_env
from engine_builds import Postgres, postgres_env
from small_landing import write_landing
from test_engines import DUCKDB_ONLY_MARTS, mart_differences

from contact_warehouse.publication.publish import PUBLISHED_SCHEMA, read_publication
from contact_warehouse.settings import PII_KEY_FILE_NAME

pytestmark = pytest.mark.engines
# The session's throw-away PostgreSQL server (tests/engine_builds.py, tests/postgres_setup.sh).
pytest_plugins = ["engine_builds"]
DATABASE = "nightly_run"


def _serving_tables(serving: Path) -> dict[str, pd.DataFrame]:
    """Every table publication wrote (its own record lists them)."""
    names = read_publication(serving)["tables"]
    with duckdb.connect(str(serving), read_only=True) as con:
        return {name: con.execute(f'select * from {PUBLISHED_SCHEMA}."{name}"').df() for name in names}


@pytest.fixture(scope="module")
def postgres_run(
    small_run: CliRun,
    postgres: Postgres,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CliRun]:
    """`contact-warehouse run` as ``small_run`` ran it, with the postgres target, in a database of its own."""
    import time

    import psycopg2

    root = tmp_path_factory.mktemp("postgres_run")
    landing = write_landing(root / "landing")
    db = root / "data" / "warehouse.duckdb"
    db.parent.mkdir()
    # The DuckDB run's key: the keyed hashes of identifiers (customer keys among them) come out the same.
    shutil.copy(small_run.db.parent / PII_KEY_FILE_NAME, db.parent / PII_KEY_FILE_NAME)
    admin = psycopg2.connect(
        host=postgres.host, port=postgres.port, user=postgres.user, password=postgres.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {DATABASE}")
    admin.close()
    env = user_env(
        CONTACT_WAREHOUSE_DB=str(db),
        CONTACT_WAREHOUSE_DBT_TARGET="postgres",
        **postgres_env(postgres, DATABASE),
    )
    started = time.time()
    try:
        result = cli("run", "--landing", str(landing), "--vars", "{session_gap_minutes: 30}", env=env, cwd=root)
        print(f"postgres: contact-warehouse run on the small landing in {time.time() - started:.0f} s")
        yield CliRun(root, landing, db, result, started)
    finally:
        # The run parsed dbt's shared manifest (dbt_project/target) for the postgres target: the other tests read
        # the default target's.
        from orchestration.project import prepare_manifest

        prepare_manifest(force=True)


def test_a_nightly_run_on_postgres_serves_the_marts_of_the_run_on_duckdb(
    postgres_run: CliRun, small_run: CliRun
) -> None:
    run = postgres_run.succeeded()
    expected = _serving_tables(small_run.succeeded().serving)
    served = _serving_tables(run.serving)
    # The marts of the dbt Python models (staffing, predictions), which the Python step builds off DuckDB.
    published = DUCKDB_ONLY_MARTS & set(expected)
    assert published, f"the DuckDB run published none of {sorted(DUCKDB_ONLY_MARTS)}"
    assert published <= set(served), f"missing from the serving file: {sorted(published - set(served))}"
    assert set(served) == set(expected)
    # Not vacuous: the small landing gives the staffing marts rows.
    assert not expected["mart_staffing_actuals"].empty
    differences = [
        difference
        for name in sorted(expected)
        if (difference := mart_differences(name, expected[name], served[name])) is not None
    ]
    assert differences == [], "\n".join(differences)


def test_the_staging_checks_read_the_tables_the_engine_built(
    postgres_run: CliRun,
    postgres: Postgres,  # noqa: F811
) -> None:
    """The expectation suites of staging models (expectations/stg_*.json) read the engine's tables, copied into the
    build file with its types: the same rows as PostgreSQL's, timestamps as timestamps."""
    run = postgres_run.succeeded()
    server = replace(postgres, database=DATABASE)
    for table in ("stg_loading__load_ledger", "stg_phone_system__calls", "stg_phone_system__survey_answers"):
        (engine_rows,) = server.query(f"select count(*) from staging.{table}")[0]
        with duckdb.connect(str(run.db), read_only=True) as con:
            (copied,) = con.execute(f"select count(*) from staging.{table}").fetchone()
        assert copied == engine_rows > 0, table
    with duckdb.connect(str(run.db), read_only=True) as con:
        kind = con.execute(
            "select data_type from duckdb_columns() where schema_name = 'staging' "
            "and table_name = 'stg_phone_system__calls' and column_name = 'started_at'"
        ).fetchone()[0]
    assert kind == "TIMESTAMP"
