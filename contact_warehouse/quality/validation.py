"""Validating a pandas frame against a suite with GE 1.x's ephemeral context and a whole-dataframe batch: what
failed, with the offending values and rows, as plain JSON (the Dagster check puts it in its metadata)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contact_warehouse.quality.suites import Suite, SuiteError

# How many offending values and rows the check's metadata shows per failing expectation.
MAX_SHOWN = 20


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
    # A frame read with Suite.candidate_rows holds only the rows that could fail; the table's count is the rows.
    rows = int(frame.attrs.get("table_rows", len(frame)))
    outcome = SuiteOutcome(suite=suite, rows=rows, evaluated=len(validation.results))
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
