"""dbt's unit tests run here, in the test suite, not in the nightly build (issue 22, DECISIONS.md "The nightly build
runs no unit tests"): they check the models' SQL on rows written in their YAML, so a night would only re-prove the
code the suite already proved. They run on a copy of the session's build of the sample (dbt reads the column types
of a unit test's inputs from their built tables); PostgreSQL runs them too (tests/test_engines.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import CliRun, run_dbt

from contact_warehouse.settings import DBT_PROJECT_DIR


def _unit_tests_in_manifest() -> set[str]:
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    return set(manifest["unit_tests"])


def test_the_nightly_run_runs_no_unit_test(sample_run: CliRun) -> None:
    log = sample_run.succeeded().log.read_text(errors="replace")
    assert "Running dbt command" in log, "the run's log must show dbt's lines"
    assert " START unit_test " not in log and " START test " in log  # data tests still run


def test_every_unit_test_passes_on_the_sample_build(sample_run: CliRun, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_run.succeeded().db, db)
    result = run_dbt(["test", "--resource-type", "unit_test", "--log-format", "json"], db)
    statuses: dict[str, str] = {}
    for line in result.stdout.splitlines():
        event = json.loads(line) if line.startswith("{") else {}
        data = event.get("data", {})
        node = data.get("node_info", {})
        if event.get("info", {}).get("name") == "LogTestResult" and node.get("resource_type") == "unit_test":
            statuses[node["unique_id"]] = data["status"]
    assert set(statuses) == _unit_tests_in_manifest() and len(statuses) > 30
    assert set(statuses.values()) == {"pass"}
