"""How fresh each export is: ``dbt source freshness`` on the raw tables, read back from its ``sources.json``.

The thresholds live with the sources (``dbt_project/models/staging/_sources.yml``, ``loaded_at_field:
_loaded_at``, the loader's load time): an export's age is the time since a row of it was last loaded. dbt's
statuses: ``pass``, ``warn`` (older than ``warn_after``), ``error`` (older than ``error_after``, or never loaded),
``runtime error`` (the table could not be read).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from contact_warehouse.settings import DBT_PROJECT_DIR, dbt_executable

# dbt writes this for a table with no row at all: the export never arrived.
NEVER_LOADED = datetime.fromisoformat("0001-01-01T00:00:00+00:00")
STALE = ("warn", "error")


class FreshnessError(RuntimeError):
    """dbt could not check freshness at all (the project does not parse, the warehouse cannot be opened)."""


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


def sources_with_freshness(manifest_path: Path) -> list[tuple[str, str]]:
    """(source, table) of every dbt source with a freshness threshold, from the dbt manifest."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    found = []
    for node in manifest.get("sources", {}).values():
        criteria = node.get("freshness") or {}
        has_threshold = any((criteria.get(key) or {}).get("count") for key in ("warn_after", "error_after"))
        if has_threshold and node.get("loaded_at_field"):
            found.append((node["source_name"], node["name"]))
    return sorted(found)


def parse_sources_json(path: Path) -> list[SourceFreshness]:
    """The results of a ``dbt source freshness`` run, one per checked table, sorted by source and table."""
    document = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for result in document.get("results", []):
        _, _, source, table = result["unique_id"].split(".", 3)
        loaded = result.get("max_loaded_at")
        max_loaded_at = datetime.fromisoformat(loaded) if loaded else None
        if max_loaded_at is not None and max_loaded_at <= NEVER_LOADED:
            max_loaded_at = None
        age = result.get("max_loaded_at_time_ago_in_s")
        criteria = result.get("criteria") or {}
        results.append(
            SourceFreshness(
                source=source,
                table=table,
                status=result.get("status", "runtime error"),
                max_loaded_at=max_loaded_at,
                age_hours=age / 3600 if max_loaded_at is not None and age is not None else None,
                warn_after=_threshold(criteria, "warn_after"),
                error_after=_threshold(criteria, "error_after"),
                message=" ".join(str(result.get("error") or "").split()),
            )
        )
    return sorted(results, key=lambda r: (r.source, r.table))


def run_source_freshness(database: Path, target_dir: Path) -> list[SourceFreshness]:
    """Run ``dbt source freshness`` on every source with a threshold against ``database``; dbt's files go to
    ``target_dir`` (its ``sources.json`` and ``dbt.log``). A stale source is a result, not an error: this raises
    only when dbt checked nothing."""
    target_dir.mkdir(parents=True, exist_ok=True)
    parsed = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if parsed.exists():  # the manifest the run prepared: dbt re-parses only what changed (seconds, not a minute)
        shutil.copy2(parsed, target_dir / parsed.name)
    (target_dir / "sources.json").unlink(missing_ok=True)
    env = {**os.environ, "CONTACT_WAREHOUSE_DB": str(database), "DBT_LOG_PATH": str(target_dir)}
    result = subprocess.run(
        [
            dbt_executable(),
            "--no-use-colors",
            "source",
            "freshness",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    sources = target_dir / "sources.json"
    if not sources.exists():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise FreshnessError(f"dbt source freshness checked nothing (exit {result.returncode}):\n{tail}")
    return parse_sources_json(sources)
