"""The nightly job's dbt writes its log file at info (issue 22: the debug lines were a fixed cost of every run)."""

from __future__ import annotations

import json
import shutil

from dagster_dbt import DbtCliResource

from orchestration.resources import build_resources


def _levels(dbt: DbtCliResource) -> set[str]:
    """The levels of the lines of dbt.log that one `dbt debug` (no parse: seconds) through the resource writes."""
    invocation = dbt.cli(["debug"]).wait()
    target = invocation.project_dir / invocation.target_path
    try:
        lines = (target / "dbt.log").read_text().splitlines()
        return {json.loads(line)["info"]["level"] for line in lines if line.startswith("{")}
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_the_nightly_dbt_log_file_has_no_debug_lines_but_keeps_info(warehouse) -> None:
    nightly = build_resources()["dbt"]
    levels = _levels(nightly)
    # dbt's own default writes debug lines here too (`DbtCliResource(project_dir=..., profiles_dir=...)`: levels
    # debug and info), so this fails without the flag; not run twice, to spare the suite a dbt start.
    assert "info" in levels and "debug" not in levels
