"""How fresh each export is: ``dbt source freshness``'s rule on the raw tables, computed from the dbt manifest.

The thresholds live with the sources (``dbt_project/models/staging/_sources.yml``, ``loaded_at_field:
_loaded_at``, the loader's load time): an export's age is the time since a row of it was last loaded. dbt's
statuses: ``pass``, ``warn`` (older than ``warn_after``), ``error`` (older than ``error_after``, or never loaded),
``runtime error`` (the table could not be read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

# dbt writes this for a table with no row at all: the export never arrived.
NEVER_LOADED = datetime.fromisoformat("0001-01-01T00:00:00+00:00")
STALE = ("warn", "error")


class FreshnessError(RuntimeError):
    """Freshness could not be checked at all (no dbt manifest to read the thresholds from)."""


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # dbt source name (the tool)
    table: str  # raw table
    status: str  # pass, warn, error, runtime error
    max_loaded_at: datetime | None  # None: never loaded, or unknown
    age_hours: float | None
    warn_after: str  # "26 hours"; "" when not set
    error_after: str
    message: str = ""  # dbt's error, for a runtime error

    @property
    def stale(self) -> bool:
        return self.status in STALE

    def sentence(self) -> str:
        """What a person on call reads: which export, how old, against which threshold."""
        name = f"raw.{self.table} ({self.source})"
        if self.status == "runtime error":
            return f"{name}: freshness could not be checked: {self.message}"
        if self.max_loaded_at is None:
            return f"{name}: no row was ever loaded ({self.status}; error after {self.error_after or 'never'})"
        age = f"last load {self.max_loaded_at:%Y-%m-%d %H:%M} UTC, {self.age_hours:.1f} hours ago"
        if self.status == "pass":
            return f"{name}: fresh ({age})"
        threshold = self.error_after if self.status == "error" else self.warn_after
        return f"{name}: stale, {self.status} ({age}; {self.status} after {threshold})"


def _threshold(criteria: dict, key: str) -> str:
    value = criteria.get(key) or {}
    if not value.get("count") or not value.get("period"):
        return ""
    return f"{value['count']} {value['period']}s"


def _checked_sources(manifest: dict) -> list[dict]:
    """The manifest's source nodes with a freshness threshold and a ``loaded_at_field``: the tables checked."""
    found = []
    for node in manifest.get("sources", {}).values():
        criteria = node.get("freshness") or {}
        has_threshold = any((criteria.get(key) or {}).get("count") for key in ("warn_after", "error_after"))
        if has_threshold and node.get("loaded_at_field"):
            found.append(node)
    return found


def sources_with_freshness(manifest_path: Path) -> list[tuple[str, str]]:
    """(source, table) of every dbt source with a freshness threshold, from the dbt manifest."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return sorted((node["source_name"], node["name"]) for node in _checked_sources(manifest))


# dbt's periods (FreshnessThreshold): a source is past a threshold when its age exceeds count periods.
PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _seconds(criteria: dict, key: str) -> float | None:
    value = criteria.get(key) or {}
    if not value.get("count") or not value.get("period"):
        return None
    return value["count"] * PERIOD_SECONDS[value["period"]]


def _status(age_seconds: float, criteria: dict) -> str:
    """dbt's rule: error past error_after, else warn past warn_after, else pass."""
    error, warn = _seconds(criteria, "error_after"), _seconds(criteria, "warn_after")
    if error is not None and age_seconds > error:
        return "error"
    if warn is not None and age_seconds > warn:
        return "warn"
    return "pass"


def measure_freshness(
    con: duckdb.DuckDBPyConnection, manifest_path: Path, now: datetime | None = None
) -> list[SourceFreshness]:
    """The freshness of every dbt source with a threshold, as ``dbt source freshness`` judges it (the latest
    ``loaded_at_field`` of the rows its ``filter`` keeps, against ``warn_after`` and ``error_after``), read straight
    from the warehouse the loader writes (``con``), one query per table: no dbt process, whose start-up and parse
    were ~5-7 s of every nightly run for eight ``max()`` queries (issue 22). Sorted by source and table; a table
    that cannot be read is a ``runtime error`` result, never an exception."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FreshnessError(
            f"no thresholds to check: the dbt manifest {manifest_path} cannot be read: {error}"
        ) from error
    now = now or datetime.now(UTC)
    results = []
    for node in _checked_sources(manifest):
        criteria, field = node["freshness"], node["loaded_at_field"]
        table = node.get("identifier") or node["name"]
        where = f" where {criteria['filter']}" if criteria.get("filter") else ""
        common = {
            "source": node["source_name"],
            "table": node["name"],
            "warn_after": _threshold(criteria, "warn_after"),
            "error_after": _threshold(criteria, "error_after"),
        }
        try:
            (latest,) = con.execute(f'select max({field}) from "{node["schema"]}"."{table}"{where}').fetchone()
        except duckdb.Error as error:
            message = " ".join(str(error).split())
            results.append(
                SourceFreshness(status="runtime error", max_loaded_at=None, age_hours=None, message=message, **common)
            )
            continue
        if latest is None:  # no row at all: the export never arrived (dbt: loaded at 0001-01-01, an error)
            age = (now - NEVER_LOADED).total_seconds()
            results.append(SourceFreshness(status=_status(age, criteria), max_loaded_at=None, age_hours=None, **common))
            continue
        latest = latest.replace(tzinfo=UTC) if latest.tzinfo is None else latest.astimezone(UTC)  # stored in UTC
        age = (now - latest).total_seconds()
        results.append(
            SourceFreshness(status=_status(age, criteria), max_loaded_at=latest, age_hours=age / 3600, **common)
        )
    return sorted(results, key=lambda r: (r.source, r.table))
