"""Every path and environment variable the project reads, in one place."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = ROOT / "dbt_project"
EXPECTATIONS_DIR = ROOT / "expectations"
MAPPING_PROFILES_DIR = ROOT / "mapping_profiles"
GLOSSARY_PATH = ROOT / "docs" / "kpi_glossary.md"
DEFAULT_LANDING_DIR = ROOT / "seeds"
DEFAULT_WAREHOUSE_DB = ROOT / "data" / "warehouse.duckdb"

# Telemetry off: no network here, and users' machines may be locked down.
TELEMETRY_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "DAGSTER_DISABLE_TELEMETRY": "1",
}
for _name, _value in TELEMETRY_ENV.items():
    os.environ.setdefault(_name, _value)


def warehouse_db() -> Path:
    """The build DuckDB file. Its name stays ``warehouse.duckdb``: dbt-duckdb puts it in the manifest."""
    return Path(os.environ.get("CONTACT_WAREHOUSE_DB", DEFAULT_WAREHOUSE_DB))


def serving_db() -> Path:
    """The published file readers use: only the marts of the last run whose blocking checks passed. By default
    ``serving.duckdb`` beside the build file (``data/serving.duckdb``)."""
    default = warehouse_db().parent / "serving.duckdb"
    return Path(os.environ.get("CONTACT_WAREHOUSE_SERVING_DB", default))


def report_dir() -> Path:
    """Where the nightly job writes the cockpit report: ``report/`` beside the serving file by default."""
    return Path(os.environ.get("CONTACT_WAREHOUSE_REPORT_DIR", serving_db().parent / "report"))


def landing_dir() -> Path:
    return Path(os.environ.get("CONTACT_WAREHOUSE_LANDING", DEFAULT_LANDING_DIR))


def profiles_dir() -> Path:
    return Path(os.environ.get("CONTACT_WAREHOUSE_PROFILES", MAPPING_PROFILES_DIR))


def ensure_warehouse_env() -> Path:
    """Export the warehouse path so dbt's profiles.yml and Dagster's resource read the same file."""
    path = warehouse_db()
    os.environ["CONTACT_WAREHOUSE_DB"] = str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def dbt_executable() -> str:
    """The dbt installed beside this Python (the venv's), so a run never picks another dbt from PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")
