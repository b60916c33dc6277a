"""The Dagster code location loads, and every dbt source sits downstream of the loader that fills it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from contact_warehouse.loading.sources import EXPORTS
from contact_warehouse.settings import TELEMETRY_ENV
from orchestration.definitions import defs


def test_definitions_load_with_a_raw_asset_per_table() -> None:
    graph = defs().resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for export in EXPORTS:
        for table in export.tables:
            assert f"raw/{table.name}" in keys
            assert graph.get(dg.AssetKey(["raw", table.name])).is_materializable


def test_staging_models_read_the_raw_assets() -> None:
    graph = defs().resolve_asset_graph()
    by_name = {k.path[-1]: k for k in graph.get_all_asset_keys()}
    parents = {p.to_user_string() for p in graph.get(by_name["stg_phone_system__calls"]).parent_keys}
    assert parents == {"raw/calls"}
    parents = {p.to_user_string() for p in graph.get(by_name["stg_chat__messages"]).parent_keys}
    assert parents == {"raw/chat_messages"}


def test_dbt_tests_are_asset_checks() -> None:
    # One check per model over its dbt tests (orchestration/dbt_checks.py), each test named in its metadata.
    graph = defs().resolve_asset_graph()
    key = dg.AssetCheckKey(dg.AssetKey(["staging", "stg_phone_system__calls"]), "dbt_tests")
    assert key in graph.asset_check_keys
    assert "unique_stg_phone_system__calls_call_id" in graph.get(key).metadata["dbt_tests"]
    assert "unique_stg_phone_system__calls_call_id" not in {k.name for k in graph.asset_check_keys}


def test_the_job_takes_a_full_refresh_of_the_incremental_models() -> None:
    from orchestration.cli import build_parser, run_config

    job = defs().resolve_job_def("warehouse_job")
    for full_refresh in (False, True):
        validated = dg.validate_run_config(job, run_config(full_refresh))
        assert validated["ops"]["warehouse_dbt_assets"]["config"] == {"full_refresh": full_refresh, "vars": ""}
    validated = dg.validate_run_config(job, run_config(False, {"session_gap_minutes": 20}))
    assert validated["ops"]["warehouse_dbt_assets"]["config"]["vars"] == '{"session_gap_minutes": 20}'
    assert build_parser().parse_args(["run", "--full-refresh"]).full_refresh is True
    assert build_parser().parse_args(["run"]).full_refresh is False


def test_old_run_target_folders_are_pruned_but_never_the_current_one(tmp_path) -> None:
    import os

    from orchestration.assets.dbt import prune_run_targets

    folders = []
    for age in range(8):  # the first is the newest
        folder = tmp_path / f"warehouse_dbt_assets-run{age}-abcdef0"
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
        folders.append(folder)
    (tmp_path / "manifest.json").write_text("{}")  # the project's own manifest is not a run folder
    current = folders[7]  # the oldest, e.g. a clock set back: still kept

    removed = prune_run_targets(tmp_path, keep=3, current=current)

    assert sorted(removed) == sorted(folders[3:7])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f.name for f in folders[:3]] + [current.name, "manifest.json"]
    )


# Run in a fresh interpreter (this one has imported the definitions already). Dagster and dagster-dbt are imported
# first: dagster itself runs `file` on import (platform.architecture), which is not ours to judge.
IMPORT_PROBE = """
import json, os, subprocess, sys
import dagster, dagster_dbt
before = dict(os.environ)
commands = []
popen_init = subprocess.Popen.__init__
def recording_init(self, args, *rest, **kwargs):
    commands.append([str(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)])
    popen_init(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = recording_init
import orchestration.definitions
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({"commands": commands, "changed": changed}))
"""


def test_importing_the_definitions_runs_nothing_and_leaves_the_environment_alone() -> None:
    # As under `dagster dev` (which makes dagster-dbt re-parse the project), with no warehouse setting exported:
    # the two cases where an import used to run `dbt parse` and export CONTACT_WAREHOUSE_DB.
    unset = {"CONTACT_WAREHOUSE_DB", *TELEMETRY_ENV}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {"DAGSTER_IS_DEV_CLI": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-c", IMPORT_PROBE], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe == {"commands": [], "changed": []}
