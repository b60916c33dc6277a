"""One Dagster asset check per dbt model (``dbt_tests``) that sums up its dbt tests: the summary's arithmetic, the
definitions, the outcomes publication records, and a real dbt build of one model with a failing test."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import CliRun

from contact_warehouse.operations.dbt_tests import (
    DBT_TESTS_CHECK,
    RUN_KEY,
    TESTS_KEY,
    DbtTestOutcome,
    DbtTestResult,
    dbt_test_result,
    outcomes_of_tests,
    summarize,
)


def result(name: str, status: str, failures: int | None = 0) -> DbtTestResult:
    return DbtTestResult(f"test.p.{name}.1", name, status, failures)


# ------------------------------------------------------------------------------------------- the summary


def test_a_model_whose_tests_all_pass_passes_and_lists_every_test() -> None:
    summary = summarize([result("unique_a_id", "pass"), result("not_null_a_id", "pass")])
    assert summary is not None and summary.passed
    assert summary.metadata() == {
        TESTS_KEY: [
            {"name": "not_null_a_id", "status": "pass", "failures": 0},
            {"name": "unique_a_id", "status": "pass", "failures": 0},
        ],
        RUN_KEY: 2,
    }


def test_a_failing_test_makes_the_model_s_check_fail_with_severity_error_and_names_it() -> None:
    summary = summarize(
        [result("not_null_a_id", "pass"), result("unique_a_id", "fail", 3), result("accepted_range_a_x", "warn", 1)]
    )
    assert summary is not None and not summary.passed and summary.severity == "ERROR"
    assert summary.description == "1 of 3 dbt tests failed: unique_a_id (fail, 3 rows); 1 warned"
    assert [t["name"] for t in summary.metadata()[TESTS_KEY]] == ["accepted_range_a_x", "unique_a_id", "not_null_a_id"]


def test_tests_that_only_warn_give_a_warn_that_does_not_block() -> None:
    summary = summarize([result("not_null_a_id", "pass"), result("accepted_range_a_x", "warn", 2)])
    assert summary is not None and not summary.passed and summary.severity == "WARN"
    assert summary.description == "1 of 2 dbt tests warned: accepted_range_a_x (warn, 2 rows)"


def test_an_error_counts_as_a_failure_skipped_tests_have_no_result_and_a_retry_s_last_result_counts() -> None:
    summary = summarize([result("unique_a_id", "error", None), result("not_null_a_id", "skipped")])
    assert summary is not None and summary.severity == "ERROR" and summary.metadata()[RUN_KEY] == 1
    assert summarize([result("not_null_a_id", "skipped")]) is None
    retried = summarize([result("unique_a_id", "fail", 1), result("unique_a_id", "pass")])
    assert retried is not None and retried.passed and retried.metadata()[RUN_KEY] == 1


def test_the_outcomes_are_one_per_test_by_name_as_dagster_dbt_gave_them() -> None:
    summary = summarize([result("unique_a_id", "fail", 1), result("b_warns", "warn", 1), result("c_passes", "pass")])
    assert summary is not None
    assert sorted(outcomes_of_tests(summary.metadata()), key=lambda o: o.name) == [
        DbtTestOutcome("b_warns", False, "WARN"),
        DbtTestOutcome("c_passes", True, "ERROR"),
        DbtTestOutcome("unique_a_id", False, "ERROR"),
    ]


def test_a_test_result_is_read_from_dbt_s_json_event_and_other_nodes_are_not() -> None:
    # A LogTestResult of dbt 1.11's JSON log (trimmed), with a failure.
    node = {"node_name": "unique_stg_a_id", "node_status": "fail", "resource_type": "test"}
    event = {
        "data": {
            "node_info": {**node, "unique_id": "test.contact_warehouse.unique_stg_a_id.54acf49e8d"},
            "num_failures": 2,
            "status": "fail",
        },
        "info": {"name": "LogTestResult"},
    }
    assert dbt_test_result(event) == DbtTestResult(
        "test.contact_warehouse.unique_stg_a_id.54acf49e8d", "unique_stg_a_id", "fail", 2
    )
    model = {"data": {"node_info": {"unique_id": "model.contact_warehouse.stg_a", "node_status": "success"}}}
    assert dbt_test_result(model) is None
    assert dbt_test_result({"data": {}, "info": {"name": "MainReportVersion"}}) is None


# ------------------------------------------------------------------------------------------- definitions


def test_each_tested_dbt_model_has_one_blocking_check_that_names_its_tests() -> None:
    from orchestration.assets.dbt import warehouse_dbt_assets

    assets = warehouse_dbt_assets()
    specs = list(assets.check_specs)
    assert {spec.name for spec in specs} == {DBT_TESTS_CHECK}
    assert len(specs) == len({spec.asset_key for spec in specs}) > 50
    assert all(spec.blocking for spec in specs)  # a WARN result never blocks; ERROR does (dbt_checks.py)
    by_model = {spec.asset_key.path[-1]: spec for spec in specs}
    calls = by_model["stg_phone_system__calls"]
    assert "unique_stg_phone_system__calls_call_id" in calls.metadata["dbt_tests"]
    # A relationships test reads a second model: the check depends on it, as the test's own check did.
    actuals = by_model["mart_staffing_actuals"]
    assert dg.AssetKey(["marts", "mart_staffing_queue_intervals"]) in {dep.asset_key for dep in actuals.additional_deps}


def test_publication_lists_a_model_check_as_its_tests_by_name(tmp_path: Path) -> None:
    from orchestration.assets.publication import run_check_outcomes

    summary = summarize([result("unique_a_id", "pass"), result("b_warns", "warn", 2)])
    assert summary is not None

    @dg.asset(key=["marts", "a"], check_specs=[dg.AssetCheckSpec(DBT_TESTS_CHECK, asset=["marts", "a"])])
    def a():
        yield dg.MaterializeResult()
        yield dg.AssetCheckResult(
            check_name=DBT_TESTS_CHECK,
            passed=summary.passed,
            severity=dg.AssetCheckSeverity(summary.severity),
            metadata={TESTS_KEY: dg.MetadataValue.json(summary.metadata()[TESTS_KEY]), RUN_KEY: 2},
        )

    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize([a], instance=instance)
    outcomes = {(o.asset_key, o.check_name): (o.passed, o.severity) for o in run_check_outcomes(instance, run.run_id)}
    assert outcomes == {("marts/a", "b_warns"): (False, "WARN"), ("marts/a", "unique_a_id"): (True, "ERROR")}


# ------------------------------------------------------------------------------------------- a real dbt build


@pytest.fixture
def duplicated_customer(small_run: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared small run's warehouse with a duplicate customer (dbt's unique test on customer_ref fails)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy2(small_run.succeeded().db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("insert into staging.stg_crm__customers select * from staging.stg_crm__customers limit 1")
    monkeypatch.setenv("CONTACT_WAREHOUSE_DB", str(db))
    return db


def test_a_model_s_tests_run_without_the_model_give_one_failing_check_that_blocks(duplicated_customer: Path) -> None:
    from orchestration.assets.dbt import warehouse_dbt_assets
    from orchestration.progress import RunProgress
    from orchestration.resources import build_resources

    key = dg.AssetCheckKey(dg.AssetKey(["staging", "stg_crm__customers"]), DBT_TESTS_CHECK)
    instance = dg.DagsterInstance.ephemeral()
    # The check alone (a UI "execute check"): dagster-dbt knows one dbt test per check; every test of the model runs.
    result = dg.materialize(
        [warehouse_dbt_assets()],
        selection=dg.AssetSelection.checks(key),
        resources={"dbt": build_resources()["dbt"]},
        instance=instance,
        raise_on_error=False,
    )

    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == key and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    tests = {t["name"]: t for t in evaluation.metadata[TESTS_KEY].value}
    assert tests["unique_stg_crm__customers_customer_ref"]["status"] == "fail"
    assert tests["unique_stg_crm__customers_customer_ref"]["failures"] == 1
    assert len(tests) == evaluation.metadata[RUN_KEY].value == 4  # all the model's tests, not the one dagster-dbt knew
    assert all(t["status"] == "pass" for name, t in tests.items() if name != "unique_stg_crm__customers_customer_ref")
    assert "unique_stg_crm__customers_customer_ref (fail, 1 rows)" in (evaluation.description or "")
    # The CLI's running count ("dbt build  N models, M tests…") still counts dbt tests, not checks.
    progress = RunProgress(io.StringIO(), run_id=result.run_id, serving=Path("s"), report=Path("r"))
    for entry in instance.all_logs(result.run_id):
        progress.on_event(entry)
    assert progress._dbt_tests == len(tests)


def test_a_manifest_with_disabled_models_gives_checks_for_the_enabled_ones_only(tmp_path: Path) -> None:
    """Parsed for PostgreSQL the dbt Python models are disabled, their tests left in the nodes: the definitions of
    the nightly job on PostgreSQL failed to load ("Could not find model...mart_churn_predictions in dbt manifest")."""
    import json
    import subprocess
    import sys

    from dagster_dbt import DagsterDbtTranslatorSettings

    from contact_warehouse.settings import DBT_PROJECT_DIR
    from orchestration.dbt_checks import ModelTestsTranslator, tests_by_check

    dbt = str(Path(sys.executable).parent / "dbt")
    args = ["parse", "--target", "postgres", "--target-path", str(tmp_path), "--profiles-dir", str(DBT_PROJECT_DIR)]
    subprocess.run([dbt, *args], cwd=DBT_PROJECT_DIR, check=True, capture_output=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    disabled = "model.contact_warehouse.mart_churn_predictions"
    assert disabled not in manifest["nodes"]
    assert any(node.get("attached_node") == disabled for node in manifest["nodes"].values())  # what broke it
    translator = ModelTestsTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
    grouped = tests_by_check(translator, manifest, None)
    checked = {key.asset_key.path[-1] for key in grouped}
    assert "mart_churn_predictions" not in checked and "fct_events" in checked
