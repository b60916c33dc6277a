"""`make lint`'s checks as tests, so that CI (`.ci/run` runs `make test`) keeps the project clean: ruff check, ruff
format --check, and sqlfluff lint of the dbt models (dbt templater, `.sqlfluff`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Selected by default (CI runs them); `pytest -m "not lint"` leaves them out of a quick local run.
pytestmark = pytest.mark.lint


def _tool(name: str) -> str:
    """The executable beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make install` installs the dev dependencies")
    return found


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-3000:]}"


def test_ruff_check_is_clean() -> None:
    _run([_tool("ruff"), "check", "."])


def test_ruff_format_is_clean() -> None:
    _run([_tool("ruff"), "format", "--check", "."])


def test_sqlfluff_lint_is_clean(tmp_path: Path) -> None:
    # The dbt templater compiles the project and opens the profile's database: a throw-away file, as in `make lint`.
    _run(
        [_tool("sqlfluff"), "lint", "dbt_project/models"],
        env={"CONTACT_WAREHOUSE_DB": str(tmp_path / "warehouse.duckdb")},
    )
