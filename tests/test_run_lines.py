"""The CLI's dbt line counts every dbt invocation of the run (contact_warehouse/operations/run_lines.py)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from contact_warehouse.operations import run_lines


def _target(root: Path, name: str, results: list[tuple[str, str]], mtime: int) -> None:
    folder = root / "target" / name
    folder.mkdir(parents=True)
    rows = [{"unique_id": unique_id, "status": status} for unique_id, status in results]
    (folder / "run_results.json").write_text(json.dumps({"results": rows}))
    os.utime(folder, (mtime, mtime))


def test_the_dbt_line_counts_both_invocations_around_the_python_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off DuckDB the job runs dbt twice, around the Python step; the run on Spark printed "3 models ... tests 42
    passed", the second invocation's counts, for a run that built every model."""
    monkeypatch.setattr(run_lines, "DBT_PROJECT_DIR", tmp_path)
    step = run_lines.DBT_STEP
    before = [("model.p.stg_calls", "success"), ("model.p.mart_a", "success"), ("seed.p.queues", "success")]
    before += [("test.p.not_null_a", "pass"), ("unit_test.p.mart_a.u", "pass")]
    _target(tmp_path, f"{step}-abcdef1-1", before, 1_000)
    _target(tmp_path, f"{step}-abcdef1-2", [("model.p.mart_staffing", "success"), ("test.p.t", "fail")], 2_000)
    _target(tmp_path, f"{step}-9999999-1", [("model.p.other_run", "success")], 3_000)  # another run: not counted
    lines = run_lines.RunLines(io.StringIO(), "abcdef1234", tmp_path / "serving.duckdb", tmp_path / "report")
    assert lines._dbt_text() == "3 models, 1 seeds, tests 2 passed, 1 failed, 0 warned"
    assert lines._dbt_target() == tmp_path / "target" / f"{step}-abcdef1-2"  # a failure's cause: the latest
    # A retried build (a transient error) repeats the nodes: each counts once, with its newest result.
    _target(tmp_path, f"{step}-abcdef1-3", [("model.p.mart_staffing", "success"), ("test.p.t", "pass")], 2_500)
    assert lines._dbt_text() == "3 models, 1 seeds, tests 3 passed, 0 failed, 0 warned"
