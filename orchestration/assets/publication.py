"""``serving/publication``: after the dbt build and its checks, the marts go to the serving file readers use.

Downstream of every dbt asset, so blocking checks (GE suites of severity error, dbt tests) gate it: when one
fails, this step does not run and the serving file keeps the last good publication.
"""

from functools import cache
from pathlib import Path

import dagster as dg

from contact_warehouse.operations.dbt_tests import DBT_TESTS_CHECK, outcomes_of_tests
from contact_warehouse.publication.publish import CheckOutcome, publish
from contact_warehouse.routing import export_routing_csv
from contact_warehouse.settings import serving_db
from orchestration.assets.dbt import warehouse_dbt_assets
from orchestration.resources import WarehouseLockResource, WarehouseResource
from orchestration.retries import STEP_RETRY, only_transient_retries

PUBLICATION_KEY = dg.AssetKey(["serving", "publication"])


def run_check_outcomes(instance: dg.DagsterInstance, run_id: str) -> list[CheckOutcome]:
    """Every asset check evaluated in this run (GE suites and dbt tests), last evaluation per check. A model's
    ``dbt_tests`` check is listed as its dbt tests, each by name (orchestration/dbt_checks.py)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    outcomes: dict[tuple[str, str], CheckOutcome] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        evaluation = event.asset_check_evaluation_data
        asset = evaluation.asset_key.to_user_string()
        if evaluation.check_name == DBT_TESTS_CHECK:
            metadata = {name: getattr(value, "value", value) for name, value in evaluation.metadata.items()}
            for test in outcomes_of_tests(metadata):
                outcomes[(asset, test.name)] = CheckOutcome(asset, test.name, test.passed, test.severity)
            continue
        key = (asset, evaluation.check_name)
        outcomes[key] = CheckOutcome(key[0], key[1], evaluation.passed, evaluation.severity.value)
    return [outcomes[key] for key in sorted(outcomes)]


@cache
def publication() -> dg.AssetsDefinition:
    """The publication asset, downstream of every dbt asset (so known once the manifest is read)."""
    return dg.asset(
        key=PUBLICATION_KEY,
        deps=sorted(warehouse_dbt_assets().keys),
        group_name="serving",
        kinds={"duckdb"},
        pool="warehouse_writer",
        retry_policy=STEP_RETRY,
        description=(
            "The marts of the build file, copied into a new DuckDB file with meta.publication (large tables by "
            "their changed rows into a copy of the last publication), then swapped into place atomically "
            "(CONTACT_WAREHOUSE_SERVING_DB, default data/serving.duckdb)."
        ),
    )(publish_marts)


def publish_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, warehouse_lock: WarehouseLockResource
) -> dg.MaterializeResult:
    checks = run_check_outcomes(context.instance, context.run_id)
    failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
    if failed:  # gating already stops this step; this guards runs that select the checks but not their gate
        names = ", ".join(f"{c.asset_key}:{c.check_name}" for c in failed)
        raise dg.Failure(description=f"Not published: checks of severity ERROR failed: {names}")
    build = Path(warehouse.database_path())
    with only_transient_retries():  # the gate's Failure above is final: a retry would find the same checks
        result = publish(build, serving_db(), run_id=context.run_id, checks=checks)
    routing_files = export_routing_csv(result.path)  # for the routing engine, beside the serving file
    context.log.info(
        f"Published {len(result.tables)} marts tables from {build} to {result.path}, "
        f"{len(result.delta_tables)} of them by their changed rows into a copy of the last publication "
        f"(lock {warehouse_lock.database_path()}.lock held by this run)."
    )
    return dg.MaterializeResult(
        metadata={
            "serving_file": dg.MetadataValue.path(str(result.path)),
            "tables": dg.MetadataValue.int(len(result.tables)),
            "rows": dg.MetadataValue.int(sum(result.tables.values())),
            "row_counts": dg.MetadataValue.json(result.tables),
            "tables_by_changed_rows": dg.MetadataValue.json(list(result.delta_tables)),
            "checks_recorded": dg.MetadataValue.int(len(checks)),
            "checks_failed_warn": dg.MetadataValue.int(sum(not c.passed for c in checks)),
            "routing_files": dg.MetadataValue.json([str(p) for p in routing_files]),
        }
    )
