"""Shared fixtures: a throw-away warehouse file per test, telemetry off, the dbt manifest prepared once."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR, TELEMETRY_ENV, dbt_executable

FIXTURES = Path(__file__).parent / "fixtures"

for _name, _value in TELEMETRY_ENV.items():
    os.environ[_name] = _value


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh warehouse file; its name stays warehouse.duckdb (dbt-duckdb's database name)."""
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    db.parent.mkdir()
    monkeypatch.setenv("CONTACT_WAREHOUSE_DB", str(db))
    yield db


def run_dbt(args: Sequence[str], db: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the venv's dbt on the project against ``db``; fails the test with dbt's output on error."""
    env = {**os.environ, "CONTACT_WAREHOUSE_DB": str(db), **(extra_env or {})}
    result = subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.fixture
def dbt():
    """The run_dbt helper, as a fixture so test modules need not import conftest."""
    return run_dbt
