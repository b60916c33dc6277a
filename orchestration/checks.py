"""Great Expectations suites as Dagster asset checks: one ``expectations/<model>.json`` per dbt model.

Each suite becomes one ``@asset_check`` on the model's asset: it reads the model's table from the build file and
validates the frame (only the rows that could fail when every expectation is a bound on a value,
``Suite.candidate_rows``; contact_warehouse/quality/: suite files, reading, GE validation). A suite's
``meta.severity`` says whether the check blocks publication (``error``) or only warns (``warn``).
"""

import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from contact_warehouse.quality.frames import read_model_frame
from contact_warehouse.quality.suites import Suite, SuiteError, read_suites
from contact_warehouse.quality.validation import SuiteOutcome, validate_frame
from contact_warehouse.settings import EXPECTATIONS_DIR
from orchestration.resources import WarehouseResource

CHECK_NAME = "great_expectations"
SEVERITIES = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


class MissingModelWarning(UserWarning):
    """A suite names a model that is not (yet) in the dbt manifest: its check is skipped."""


def _metadata(outcome: SuiteOutcome) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "suite": dg.MetadataValue.path(str(outcome.suite.path)),
        "rows": dg.MetadataValue.int(outcome.rows),
        "expectations_evaluated": dg.MetadataValue.int(outcome.evaluated),
        "expectations_failed": dg.MetadataValue.int(len(outcome.failures)),
    }
    for index, failure in enumerate(outcome.failures, start=1):
        metadata[f"failed_{index}: {failure['expectation']}"] = dg.MetadataValue.json(failure)
    return metadata


def _table_of(dbt_assets: dg.AssetsDefinition, key: dg.AssetKey) -> tuple[str, str]:
    """(schema, table) of a dbt model, from the ``dagster/table_name`` dagster-dbt puts on its spec."""
    name = dbt_assets.specs_by_key[key].metadata.get("dagster/table_name")
    if not name or name.count(".") < 1:
        raise SuiteError(f"no table name known for {key.to_user_string()}")
    schema, table = name.split(".")[-2:]
    return schema, table


def build_expectation_check(suite: Suite, key: dg.AssetKey, schema: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name=CHECK_NAME,
        blocking=suite.blocking,
        description=f"{suite.description} ({suite.path.name}, severity {suite.severity})",
        pool="warehouse_writer",
        metadata={"suite": str(suite.path.name), "severity": suite.severity},
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        severity = SEVERITIES[suite.severity]
        try:
            now = datetime.now(UTC).replace(tzinfo=None)
            frame = read_model_frame(
                warehouse.database_path(),
                schema,
                table,
                suite.derived_columns,
                suite.columns,
                where=suite.candidate_rows(now),
            )
        except Exception as error:  # a missing table or a bad derived column fails the check, not the run
            context.log.error(f"{key.to_user_string()}:{CHECK_NAME} could not read {schema}.{table}: {error}")
            return dg.AssetCheckResult(
                passed=False,
                severity=severity,
                description=f"could not read {schema}.{table}: {error}",
                metadata={"suite": dg.MetadataValue.path(str(suite.path)), "error": str(error)},
            )
        outcome = validate_frame(suite, frame, now=now)
        if not outcome.passed:
            context.log.error(f"{key.to_user_string()}:{CHECK_NAME} ({suite.path.name}) {outcome.summary()}")
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=severity,
            description=outcome.summary()[:1000],
            metadata=_metadata(outcome),
        )

    return _check


def build_expectation_checks(
    dbt_assets: dg.AssetsDefinition, directory: Path = EXPECTATIONS_DIR
) -> list[dg.AssetChecksDefinition]:
    """One asset check per suite file whose model is in the dbt manifest; other suites are skipped with a
    MissingModelWarning (a suite may be written before its model)."""
    checks = []
    for suite in read_suites(directory):
        try:
            key = get_asset_key_for_model([dbt_assets], suite.model)
        except KeyError:
            warnings.warn(
                f"{suite.path.name}: no dbt model named {suite.model!r} in the manifest; its check is skipped",
                MissingModelWarning,
                stacklevel=2,
            )
            continue
        schema, table = _table_of(dbt_assets, key)
        checks.append(build_expectation_check(suite, key, schema, table))
    return checks
