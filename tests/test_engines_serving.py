"""Publication and the report over marts built on PostgreSQL or Spark (issue 21, README "Scaling out").

With ``CONTACT_WAREHOUSE_DBT_TARGET`` naming another engine, the nightly job's dbt step builds there, then copies the
engine's marts into the build file (contact_warehouse/engine/engine_marts.py), so that the checks, publication and
the report read them as they read DuckDB's. Here: the marts of the nightly increment each engine built
(tests/engine_builds.py) copied into a build file that holds only the loader's raw tables, published, reported.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from engine_builds import Nightly, duckdb_marts, postgres_env
from test_engines import DUCKDB_ONLY_MARTS, assert_marts_equal

from contact_warehouse.engine.engine_marts import copy_engine_marts
from contact_warehouse.publication.publish import publish, read_publication
from contact_warehouse.report.render import render_report

pytestmark = pytest.mark.engines
pytest_plugins = ["engine_builds"]


def _column_types(db: Path) -> dict[tuple[str, str], str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'marts'"
        ).fetchall()
    return {(table, column): kind for table, column, kind in rows}


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_publication_and_the_report_read_the_marts_built_on_another_engine(
    engine: str, nightly: Nightly, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    built = request.getfixturevalue(f"{engine}_nightly")
    if engine == "postgres":
        env = postgres_env(built.server, built.database)
    else:
        env = {"CONTACT_WAREHOUSE_SPARK_WAREHOUSE": str(built.warehouse)}
    build = tmp_path / "warehouse" / "warehouse.duckdb"
    build.parent.mkdir()
    shutil.copy(nightly.history_db, build)  # the loader's raw tables, no marts
    copied = copy_engine_marts(build, engine, environ=env)

    assert set(copied.tables) == set(built.marts)
    # The staging tables the expectation suites check (expectations/stg_*.json), with rows and timestamps.
    assert copied.missing == [] and set(copied.checked) >= {"staging.stg_phone_system__calls"}
    assert all(rows > 0 for rows in copied.checked.values()), copied.checked
    with duckdb.connect(str(build), read_only=True) as con:
        kind = con.execute(
            "select data_type from duckdb_columns() where schema_name = 'staging' "
            "and table_name = 'stg_phone_system__calls' and column_name = 'started_at'"
        ).fetchone()[0]
    assert kind == "TIMESTAMP"
    # The rows of the engine's marts, each column with the type DuckDB's own build gives it (the contracts).
    assert_marts_equal(nightly.marts, duckdb_marts(build))
    duckdb_types = _column_types(nightly.db)
    copied_types = _column_types(build)
    assert {k: duckdb_types[k] for k in copied_types} == copied_types

    serving = tmp_path / "serving" / "serving.duckdb"
    publication = publish(build, serving, run_id=f"engine-{engine}")
    assert set(publication.tables) == set(nightly.marts) - DUCKDB_ONLY_MARTS
    assert read_publication(serving)["tables"]["fct_engagements"] == len(nightly.marts["fct_engagements"])
    with duckdb.connect(str(serving), read_only=True) as con:
        comment = con.execute(
            "select comment from duckdb_columns() where table_name = 'fct_engagements' and column_name = ?",
            ["is_first_contact_resolved"],
        ).fetchone()[0]
    assert comment  # the YAML's description, as persist_docs writes it on DuckDB
    page = render_report(serving, tmp_path / "report").read_text()
    assert "First-contact resolution" in page or "FCR" in page
