"""Great Expectations suites as Dagster asset checks: one ``expectations/<model>.json`` per dbt model.

Each suite becomes one ``@asset_check`` on the model's asset. The check reads the model's table from the build
file (read-only DuckDB connection, closed after) into pandas and validates the whole frame with GE 1.x's
ephemeral context. A suite's ``meta`` carries what GE has no field for:

- ``severity``: ``error`` (default; the check is blocking, publication waits for it) or ``warn``;
- ``derived_columns``: ``{name: SQL expression}`` computed by DuckDB on read, for rules across columns
  (``rows_accounted = rows_loaded + rows_rejected``, then a column-pair expectation);
- ``row_id_columns``: columns that identify an offending row in the check's metadata.

Suite parameter ``{"$PARAMETER": "now"}`` is the validation time (naive UTC, like every warehouse timestamp).
"""

import contextlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from contact_warehouse.engine.sql import sql_identifier
from contact_warehouse.settings import EXPECTATIONS_DIR
from orchestration.resources import WarehouseResource

CHECK_NAME = "great_expectations"
SEVERITIES = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}
# How many offending values and rows the check's metadata shows per failing expectation.
MAX_SHOWN = 20


class SuiteError(ValueError):
    """A suite file that cannot be used (reviewed like code: it fails loudly)."""


class MissingModelWarning(UserWarning):
    """A suite names a model that is not (yet) in the dbt manifest: its check is skipped."""


@dataclass(frozen=True)
class Suite:
    """One suite file. ``document`` is GE's own suite JSON (name, expectations, meta)."""

    path: Path
    document: Mapping[str, Any]

    @property
    def model(self) -> str:
        return self.path.stem

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.document.get("meta") or {}

    @property
    def severity(self) -> str:
        return self.meta.get("severity", "error")

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    @property
    def derived_columns(self) -> Mapping[str, str]:
        return self.meta.get("derived_columns") or {}

    @property
    def row_id_columns(self) -> list[str]:
        return list(self.meta.get("row_id_columns") or [])

    @property
    def columns(self) -> list[str]:
        """The columns the expectations and ``row_id_columns`` name, in order of first mention."""
        names: list[str] = []
        for spec in self.expectations:
            kwargs = spec.get("kwargs") or {}
            names += [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
            names += list(kwargs.get("column_list") or [])
        return list(dict.fromkeys([*names, *self.row_id_columns]))

    @property
    def description(self) -> str:
        notes = self.document.get("notes")
        text = " ".join(notes) if isinstance(notes, list) else (notes or "")
        return text or f"Great Expectations suite {self.path.name}"

    @property
    def expectations(self) -> list[Mapping[str, Any]]:
        return list(self.document.get("expectations") or [])


def read_suite(path: Path) -> Suite:
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise SuiteError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("expectations"), list):
        raise SuiteError(f'{path}: expected a GE suite object {{"name": ..., "expectations": [...]}}')
    suite = Suite(path, document)
    if document.get("name") != suite.model:
        raise SuiteError(f"{path}: suite name {document.get('name')!r} must equal the file stem {suite.model!r}")
    if suite.severity not in SEVERITIES:
        raise SuiteError(f"{path}: meta.severity must be one of {sorted(SEVERITIES)}, not {suite.severity!r}")
    if not suite.expectations:
        raise SuiteError(f"{path}: the suite has no expectations")
    return suite


def read_suites(directory: Path = EXPECTATIONS_DIR) -> list[Suite]:
    """Every ``*.json`` suite of the folder, by model name."""
    return [read_suite(path) for path in sorted(Path(directory).glob("*.json"))]


# --------------------------------------------------------------------------------------------- GE


def expectation_suite(suite: Suite):
    """The GE ExpectationSuite of a suite file; an unknown expectation or bad argument raises SuiteError
    (GE itself would only log it and drop the expectation)."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for index, spec in enumerate(suite.expectations):
        try:
            config = ExpectationConfiguration(type=spec["type"], kwargs=dict(spec.get("kwargs") or {}))
            expectations.append(config.to_domain_obj())
        except Exception as error:  # GE raises several unrelated types for bad configurations
            raise SuiteError(f"{suite.path}: expectation #{index} ({spec.get('type')}): {error}") from error
    return gx.ExpectationSuite(name=suite.model, expectations=expectations, meta=dict(suite.meta))


def _jsonable(value: Any) -> Any:
    """Offending values as plain JSON (numpy scalars, timestamps, NaN)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


@dataclass
class SuiteOutcome:
    """The result of validating one frame: what failed, with offending values."""

    suite: Suite
    rows: int
    evaluated: int
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if self.passed:
            return f"{self.evaluated} expectations passed on {self.rows} rows"
        parts = []
        for failure in self.failures:
            what = failure["expectation"]
            if failure.get("error"):
                parts.append(f"{what}: {failure['error']}")
            elif "offending_values" in failure:
                parts.append(f"{what}: {failure['unexpected_count']} offending, e.g. {failure['offending_values'][:5]}")
            else:
                parts.append(f"{what}: observed {failure.get('observed_value')}")
        return f"{len(self.failures)} of {self.evaluated} expectations failed: " + "; ".join(parts)


def _label(config_type: str, kwargs: Mapping[str, Any]) -> str:
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    columns += list(kwargs.get("column_list") or [])
    return f"{config_type}({', '.join(map(str, columns))})"


def validate_frame(suite: Suite, frame, now: datetime | None = None) -> SuiteOutcome:
    """Validate a whole pandas frame against the suite with an ephemeral GE context."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    now = now or datetime.now(UTC).replace(tzinfo=None)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(name="warehouse")
        .add_dataframe_asset(name=suite.model)
        .add_batch_definition_whole_dataframe(name="whole_table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    row_ids = [c for c in suite.row_id_columns if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "COMPLETE", "partial_unexpected_count": MAX_SHOWN}
    if row_ids:
        result_format["unexpected_index_column_names"] = row_ids
    validation = batch.validate(
        expectation_suite(suite), result_format=result_format, expectation_parameters={"now": now}
    )
    outcome = SuiteOutcome(suite=suite, rows=len(frame), evaluated=len(validation.results))
    for result in validation.results:
        if result.success:
            continue
        kwargs = {k: v for k, v in result.expectation_config.kwargs.items() if k != "batch_id"}
        failure: dict[str, Any] = {
            "expectation": _label(result.expectation_config.type, kwargs),
            "kwargs": _jsonable(kwargs),
        }
        details = result.result or {}
        if result.exception_info and result.exception_info.get("raised_exception"):
            failure["error"] = str(result.exception_info.get("exception_message"))
        if "unexpected_count" in details:
            failure["unexpected_count"] = _jsonable(details["unexpected_count"])
            failure["offending_values"] = _jsonable(list(details.get("partial_unexpected_list") or [])[:MAX_SHOWN])
            rows = details.get("partial_unexpected_index_list") or details.get("unexpected_index_list") or []
            if row_ids and rows:
                failure["offending_rows"] = _jsonable(list(rows)[:MAX_SHOWN])
        if "observed_value" in details:
            failure["observed_value"] = _jsonable(details["observed_value"])
        outcome.failures.append(failure)
    return outcome


# ------------------------------------------------------------------------------------------ DuckDB


def read_model_frame(
    database: Path | str,
    schema: str,
    table: str,
    derived_columns: Mapping[str, str] = (),
    columns: Sequence[str] | None = None,
):
    """Every row of the model as pandas, with the suite's derived columns; the connection is closed after.

    Only ``columns`` that the table has are read (all of them when ``columns`` is None or names none of them): a
    suite checks a few columns, and the whole of a 10 million event table in pandas cost gigabytes. A named
    column the table lacks is left for GE to report."""
    import duckdb

    relation = f"{sql_identifier(schema)}.{sql_identifier(table)}"
    derived = [f"({expr}) as {sql_identifier(name)}" for name, expr in dict(derived_columns).items()]
    with duckdb.connect(str(database), read_only=True) as con:
        present = {row[0] for row in con.execute(f"select * from {relation} limit 0").description}
        wanted = [sql_identifier(name) for name in columns or () if name in present]
        sql = f"select {', '.join((wanted or ['*']) + derived)} from {relation}"
        return con.execute(sql).df()


# ----------------------------------------------------------------------------------------- Dagster


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
            frame = read_model_frame(warehouse.database_path(), schema, table, suite.derived_columns, suite.columns)
        except Exception as error:  # a missing table or a bad derived column fails the check, not the run
            context.log.error(f"{key.to_user_string()}:{CHECK_NAME} could not read {schema}.{table}: {error}")
            return dg.AssetCheckResult(
                passed=False,
                severity=severity,
                description=f"could not read {schema}.{table}: {error}",
                metadata={"suite": dg.MetadataValue.path(str(suite.path)), "error": str(error)},
            )
        outcome = validate_frame(suite, frame)
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
