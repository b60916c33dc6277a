"""Source freshness in the nightly job: one non-blocking asset check per raw table with a dbt freshness threshold.

A stale export never blocks publication: the marts stay right for the data they have, and holding them back would
leave readers with older figures still. Every check therefore has severity WARN (the UI and the CLI show it); an
export past its *error* threshold (or never loaded) also sends the configured alert (contact_warehouse.operations
.alerts), since someone must ask the vendor. Logic: contact_warehouse/operations/freshness.py.
"""

import contextlib
from functools import cache

import dagster as dg
import duckdb

from contact_warehouse.operations.alerts import Alert, first_line, send_alert
from contact_warehouse.operations.freshness import (
    FreshnessError,
    SourceFreshness,
    measure_freshness,
    sources_with_freshness,
)
from orchestration.assets.raw import raw_asset_key
from orchestration.project import dbt_project
from orchestration.resources import WarehouseResource

FRESHNESS_CHECK = "source_freshness"


@cache
def fresh_tables() -> list[tuple[str, str]]:
    """(source, table) of every raw table with freshness thresholds, read from the manifest when first asked for."""
    return list(sources_with_freshness(dbt_project().manifest_path))


def _result(table: str, found: SourceFreshness | None, failure: str | None) -> dg.AssetCheckResult:
    key = raw_asset_key(table)
    if found is None:
        description = failure or f"raw.{table}: no freshness result"
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=FRESHNESS_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={"status": "not checked"},
        )
    metadata = {
        "status": found.status,
        "warn_after": found.warn_after,
        "error_after": found.error_after,
        "max_loaded_at": found.max_loaded_at.isoformat() if found.max_loaded_at else "never",
    }
    if found.age_hours is not None:
        metadata["age_hours"] = round(found.age_hours, 2)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=FRESHNESS_CHECK,
        passed=found.status == "pass",
        severity=dg.AssetCheckSeverity.WARN,
        description=found.sentence(),
        metadata=metadata,
    )


@cache
def source_freshness() -> dg.AssetChecksDefinition:
    """One non-blocking freshness check per raw table with thresholds (built once the manifest is read)."""
    return dg.multi_asset_check(
        name=FRESHNESS_CHECK,
        specs=[
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=raw_asset_key(table),
                blocking=False,
                description=(
                    f"source freshness of {source}.{table} (dbt's thresholds on _loaded_at; warns, never blocks)"
                ),
            )
            for source, table in fresh_tables()
        ],
        pool="warehouse_writer",
        can_subset=True,  # a run of some raw assets (UI, tests) checks those only
        description="dbt's source freshness rule on the raw tables: how long since each export last delivered a row.",
    )(check_source_freshness)


def check_source_freshness(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    failure = None
    results: dict[str, SourceFreshness] = {}
    try:
        with contextlib.closing(warehouse.connect()) as con:
            results = {r.table: r for r in measure_freshness(con, dbt_project().manifest_path)}
    except (FreshnessError, duckdb.Error) as error:  # reported on every check (and alerted), never a failed run
        failure = f"source freshness could not be checked: {error}"
        context.log.error(failure)
    stale = [r for r in results.values() if r.stale]
    for result in stale:
        (context.log.error if result.status == "error" else context.log.warning)(result.sentence())
    urgent = [r.sentence() for r in results.values() if r.status in ("error", "runtime error")]
    if failure:
        urgent.append(first_line(failure))
    if urgent:
        run = context.op_execution_context
        alert = Alert("stale_source", run.run_id, run.job_name or "", FRESHNESS_CHECK, "; ".join(urgent))
        for problem in send_alert(alert):
            context.log.warning(problem)
    selected = context.selected_asset_check_keys
    for _, table in fresh_tables():
        if dg.AssetCheckKey(raw_asset_key(table), FRESHNESS_CHECK) in selected:
            yield _result(table, results.get(table), failure)
