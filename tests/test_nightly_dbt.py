"""The nightly job's dbt step off DuckDB (contact_warehouse/engine/nightly_dbt.py, engine_marts.py): the invocations
around the Python step select what they must however an orchestrator adds its own selection, and the staging tables
the expectation suites read are copied from the engine. The whole run on PostgreSQL: tests/test_engines_nightly.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from contact_warehouse.engine.engine_marts import checked_tables, copy_engine_marts
from contact_warehouse.engine.nightly_dbt import (
    LAKE_TABLES,
    LakeTablesError,
    create_lake_tables,
    nightly_invocations,
    step_dependents,
)
from contact_warehouse.engine.python_steps import STEP
from contact_warehouse.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR, dbt_executable


def _manifest(nodes: dict[str, dict], sources: dict[str, dict], children: dict[str, list[str]]) -> dict:
    return {"nodes": nodes, "sources": sources, "child_map": children}


MANIFEST = _manifest(
    {
        "model.p.stg_calls": {"name": "stg_calls", "resource_type": "model"},
        "model.p.mart_intervals": {"name": "mart_intervals", "resource_type": "model"},
        "model.p.mart_staffing": {"name": "mart_staffing", "resource_type": "model"},
        "seed.p.queues": {"name": "queues", "resource_type": "seed"},
        "test.p.not_null_mart_staffing_key": {"name": "not_null_mart_staffing_key", "resource_type": "test"},
    },
    {
        "source.p.raw.calls": {"source_name": "raw", "name": "calls"},
        "source.p.python_models.int_staffing_forecast": {
            "source_name": "python_models",
            "name": "int_staffing_forecast",
        },
    },
    {
        "source.p.raw.calls": ["model.p.stg_calls"],
        "model.p.stg_calls": ["model.p.mart_intervals"],
        "source.p.python_models.int_staffing_forecast": ["model.p.mart_staffing"],
        "model.p.mart_staffing": ["test.p.not_null_mart_staffing_key"],
    },
)


def test_duckdb_is_one_dbt_build_other_engines_exclude_what_the_other_invocation_builds(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(MANIFEST))
    assert nightly_invocations("duckdb", ["build", "--vars", "{}"], manifest) == [["build", "--vars", "{}"]]
    assert step_dependents(MANIFEST) == {"model.p.mart_staffing", "test.p.not_null_mart_staffing_key"}
    before, step, after = nightly_invocations("postgres", ["build"], manifest)
    assert before == ["build", "--exclude", "source:python_models+"]
    assert step is STEP
    # No --select (an orchestrator's own --select would make a union with it): everything else excluded.
    assert after == [
        "build", "--exclude", "mart_intervals queues source:raw.calls stg_calls", "--indirect-selection", "cautious",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="no --select here"):
        nightly_invocations("spark", ["build", "--select", "marts"], manifest)


def test_on_spark_the_lake_s_tables_are_made_before_the_first_build(tmp_path: Path, monkeypatch) -> None:
    """Spark reads the raw rows as external tables over the loader's lake, which it can only make once the lake has
    files: the first night loaded the lake, then failed at `dbt build` (README's old three-step recipe). The job now
    makes them (if missing) before its first build, every night; PostgreSQL and DuckDB have no such step."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(MANIFEST))
    lake_tables, before, step, after = nightly_invocations("spark", ["build"], manifest)
    assert lake_tables is LAKE_TABLES and step is STEP
    assert before == ["build", "--exclude", "source:python_models+"]
    assert LAKE_TABLES not in nightly_invocations("postgres", ["build"], manifest)
    assert LAKE_TABLES not in nightly_invocations("duckdb", ["build"], manifest)
    # With the lake switched off there is nothing to read: a one-line error naming the setting, before any dbt.
    monkeypatch.setenv("CONTACT_WAREHOUSE_LAKE", "off")
    with pytest.raises(LakeTablesError, match="CONTACT_WAREHOUSE_LAKE is off"):
        create_lake_tables("spark", tmp_path / "warehouse.duckdb", DBT_PROJECT_DIR, DBT_PROJECT_DIR)


@pytest.mark.engines
def test_with_dagster_dbt_s_selection_the_two_invocations_build_each_node_once(tmp_path: Path) -> None:
    """On the project parsed for PostgreSQL, with the ``--select fqn:*`` dagster-dbt adds to a whole run: the two
    invocations select disjoint sets that cover every model, seed and test, the relationship test of a staffing mart
    to a mart built before the step in the second one."""
    target = ["--target", "postgres", "--target-path", str(tmp_path / "target")]
    common = [dbt_executable(), "--quiet", "ls", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir"]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}

    def listed(args: list[str]) -> set[str]:
        command = [*common, str(DBT_PROJECT_DIR), *target, "--resource-type", "model", "--resource-type", "seed"]
        command += ["--resource-type", "test", "--resource-type", "unit_test", "--output", "name", *args]
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=DBT_PROJECT_DIR)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return set(result.stdout.split())

    everything = listed(["--select", "fqn:*"])  # parses the project for postgres into tmp_path
    manifest = tmp_path / "target" / "manifest.json"
    before, _, after = nightly_invocations("postgres", ["ls"], manifest)
    first, second = listed([*before[1:], "--select", "fqn:*"]), listed([*after[1:], "--select", "fqn:*"])
    assert first & second == set()
    assert first | second == everything
    assert {"mart_staffing_actuals", "mart_staffing_forecast", "mart_staffing_forecast_accuracy"} <= second
    assert any(name.startswith("relationships_mart_staffing_actuals_") for name in second)
    assert not any(name.startswith(("stg_", "int_", "fct_")) for name in second)


def test_the_staging_tables_the_suites_check_are_copied_from_spark_s_files(tmp_path: Path) -> None:
    """Spark's Parquet files of a checked staging table (zoned timestamps, as Spark writes instants) become a table of
    the build file with UTC wall-clock timestamps; one the engine lacks is dropped, never left from an older run."""
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.mart_a": {
            "name": "mart_a", "resource_type": "model", "description": "A mart.", "config": {"schema": "marts"},
            "columns": {"id": {"data_type": "integer", "description": "Key."}},
        },
        "model.p.stg_calls": {"name": "stg_calls", "resource_type": "model", "config": {"schema": "staging"}},
        "model.p.stg_gone": {"name": "stg_gone", "resource_type": "model", "config": {"schema": "staging"}},
    }  # fmt: skip
    # Off DuckDB the marts of the dbt Python models are disabled in dbt (the Python step writes them): still typed.
    disabled = {
        "model.p.mart_churn": [{
            "name": "mart_churn", "resource_type": "model", "description": "", "config": {"schema": "marts"},
            "columns": {"probability": {"data_type": "double", "description": "P."}},
        }],
    }  # fmt: skip
    manifest.write_text(json.dumps({**_manifest(nodes, {}, {}), "disabled": disabled}))
    suites = tmp_path / "expectations"
    suites.mkdir()
    for name in ("mart_a", "stg_calls", "stg_gone"):
        expectation = {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}
        (suites / f"{name}.json").write_text(json.dumps({"name": name, "expectations": [expectation]}))
    assert checked_tables(manifest, suites) == [("staging", "stg_calls"), ("staging", "stg_gone")]
    warehouse = tmp_path / "spark-warehouse"
    for folder in ("marts.db/mart_a", "marts.db/mart_churn", "staging.db/stg_calls"):
        (warehouse / folder).mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'America/New_York'")  # the writer's zone must not matter: instants are stored
        con.execute(f"copy (select 1 as id) to '{warehouse}/marts.db/mart_a/part-0.parquet' (format parquet)")
        churn = f"{warehouse}/marts.db/mart_churn/part-0.parquet"
        con.execute(f"copy (select 0.25::float as probability) to '{churn}' (format parquet)")
        con.execute(
            "copy (select 'CA1' as call_id, timestamptz '2026-10-05 09:00:00+00' as started_at) "
            f"to '{warehouse}/staging.db/stg_calls/part-0.parquet' (format parquet)"
        )
    build = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema staging; create table staging.stg_gone as select 1 as last_nights_row")
    copied = copy_engine_marts(
        build, "spark", manifest, {"CONTACT_WAREHOUSE_SPARK_WAREHOUSE": str(warehouse)}, expectations=suites
    )
    assert (copied.tables, copied.checked, copied.missing) == (
        {"mart_a": 1, "mart_churn": 1},
        {"staging.stg_calls": 1},
        ["staging.stg_gone"],
    )
    with duckdb.connect(str(build), read_only=True) as con:
        row = con.execute("select call_id, started_at, typeof(started_at) from staging.stg_calls").fetchone()
        tables = {
            r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'staging'").fetchall()
        }
    assert (row[0], str(row[1]), row[2]) == ("CA1", "2026-10-05 09:00:00", "TIMESTAMP")
    assert tables == {"stg_calls"}
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("select typeof(probability) from marts.mart_churn").fetchone()[0] == "DOUBLE"


def test_the_project_s_staging_suites_are_the_checked_tables() -> None:
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        pytest.skip("no manifest (conftest prepares it)")
    assert ("staging", "stg_phone_system__calls") in checked_tables(manifest, EXPECTATIONS_DIR)
    assert all(schema != "marts" for schema, _ in checked_tables(manifest, EXPECTATIONS_DIR))


def test_a_failure_after_a_successful_dbt_build_is_not_blamed_on_dbt_s_log(tmp_path: Path) -> None:
    """Off DuckDB the dbt step also runs the Python step and copies the engine's marts: when those fail after dbt
    passed, the run's summary must give their error, not the first line of dbt's log that contains "Error" (its
    argument dump, ``warn_error_options``), as it did."""
    from contact_warehouse.operations.causes import dbt_failure_cause

    results = [{"unique_id": "model.contact_warehouse.mart_staffing_actuals", "status": "success", "message": "OK"}]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    line = {"info": {"msg": "running dbt with arguments {'warn_error_options': 'WarnErrorOptionsV2(error=[])'}"}}
    (tmp_path / "dbt.log").write_text(json.dumps(line) + "\n")
    assert dbt_failure_cause(tmp_path) is None
