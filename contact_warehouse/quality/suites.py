"""Great Expectations suite files: one ``expectations/<model>.json`` per dbt model, read and checked like code.

A suite is GE's own suite JSON (name, expectations, meta). Its ``meta`` carries what GE has no field for:

- ``severity``: ``error`` (default; the check is blocking, publication waits for it) or ``warn``;
- ``derived_columns``: ``{name: SQL expression}`` computed by DuckDB on read, for rules across columns
  (``rows_accounted = rows_loaded + rows_rejected``, then a column-pair expectation);
- ``row_id_columns``: columns that identify an offending row in the check's metadata.

Suite parameter ``{"$PARAMETER": "now"}`` is the validation time (naive UTC, like every warehouse timestamp).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from contact_warehouse.engine.sql import sql_identifier
from contact_warehouse.settings import EXPECTATIONS_DIR

# A suite's meta.severity: "error" blocks publication, "warn" does not (the Dagster check maps them to its own).
SEVERITY_NAMES = ("error", "warn")


class SuiteError(ValueError):
    """A suite file that cannot be used (reviewed like code: it fails loudly)."""


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

    def candidate_rows(self, now: datetime) -> tuple[str, list[Any]] | None:
        """A SQL condition (with its parameters) that every row an expectation could fail on meets, or None when
        the suite needs every row.

        Only for a suite whose expectations are all ``expect_column_values_to_be_between`` on a stored column with
        a number or ``now`` as bounds and nothing else (no ``mostly``, no strict bounds): GE fails such a row only
        when its value is below the minimum or above the maximum, so reading just those rows (plus the table's row
        count) gives the same verdict, offending values and rows; the staging calls' "no call from the future"
        read every call otherwise (DECISIONS.md, ninth session)."""
        conditions: list[str] = []
        params: list[Any] = []
        derived = set(self.derived_columns)
        for spec in self.expectations:
            kwargs = dict(spec.get("kwargs") or {})
            column = kwargs.pop("column", None)
            bounds = {k: kwargs.pop(k) for k in ("min_value", "max_value") if kwargs.get(k) is not None}
            if spec.get("type") != "expect_column_values_to_be_between" or kwargs or not bounds:
                return None
            if not isinstance(column, str) or column in derived:
                return None
            for key, bound in bounds.items():
                if bound == {"$PARAMETER": "now"}:
                    value: Any = now
                elif isinstance(bound, int | float) and not isinstance(bound, bool):
                    value = bound
                else:
                    return None
                conditions.append(f"{sql_identifier(column)} {'<' if key == 'min_value' else '>'} ?")
                params.append(value)
        return " or ".join(conditions), params

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
    if suite.severity not in SEVERITY_NAMES:
        raise SuiteError(f"{path}: meta.severity must be one of {sorted(SEVERITY_NAMES)}, not {suite.severity!r}")
    if not suite.expectations:
        raise SuiteError(f"{path}: the suite has no expectations")
    return suite


def read_suites(directory: Path = EXPECTATIONS_DIR) -> list[Suite]:
    """Every ``*.json`` suite of the folder, by model name."""
    return [read_suite(path) for path in sorted(Path(directory).glob("*.json"))]
