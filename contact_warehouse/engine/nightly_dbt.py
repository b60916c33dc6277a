"""The nightly job's dbt step on any target, as an orchestrator runs it (README "Scaling out", DECISIONS.md "The
nightly job runs the Python step").

On DuckDB the step is one dbt invocation: the dbt Python models run inside it. On PostgreSQL and Spark those models
are disabled and the Python step (contact_warehouse/engine/python_steps.py) writes their tables between two dbt
invocations: everything that does not read the step's tables, the step, then what does (``python_steps.
dbt_invocations``). ``nightly_invocations`` gives that sequence with each selection written as an ``--exclude``:
an orchestrator adds a selection of its own to every invocation (dagster-dbt adds ``--select fqn:*``, or the
run's subset), and dbt takes a union of two ``--select`` flags, where an exclusion composes with it as a
difference. ``run_python_step`` runs the step in a process of its own, as dbt runs in one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contact_warehouse.engine.python_steps import DBT_BEFORE_STEP, SOURCE, STEP, dbt_invocations
from contact_warehouse.loading.lake import LAKE_ENV, lake_root
from contact_warehouse.settings import dbt_executable

# The last lines of a failed step's output that go into the error (its traceback's end names the cause).
STEP_OUTPUT_TAIL = 4000
# The resource types of a manifest's ``nodes`` that dbt builds (its tests follow them by indirect selection).
BUILT_TYPES = ("model", "seed", "snapshot")


# In nightly_invocations, Spark only: where the lake's external tables are made (macro create_lake_tables), before
# the first build. Spark infers a table's columns from its files, so the tables can only be made once the loader has
# written the lake; `create table if not exists` makes it a no-op on later nights, and a first night works.
LAKE_TABLES = ("run-operation", "create_lake_tables")


class PythonStepError(RuntimeError):
    """The Python step failed: the message ends with its output."""


class LakeTablesError(RuntimeError):
    """The lake's external tables could not be made: the message ends with dbt's output."""


def step_dependents(manifest: Mapping[str, Any]) -> set[str]:
    """The unique ids of every node downstream of the step's tables (dbt's ``source:python_models+`` without the
    sources themselves): the marts on them and their tests."""
    sources = [uid for uid, source in manifest["sources"].items() if source["source_name"] == SOURCE]
    children = manifest["child_map"]
    found: set[str] = set()
    stack = list(sources)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def everything_but_the_step_dependents(manifest: Mapping[str, Any]) -> list[str]:
    """dbt selection names of every built node and source that is not downstream of the step's tables: what the
    invocation after the step excludes (the complement of ``source:python_models+``, which dbt cannot spell)."""
    dependents = step_dependents(manifest)
    names = [
        node["name"]
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in BUILT_TYPES and uid not in dependents
    ]
    names += [
        f"source:{source['source_name']}.{source['name']}"
        for source in manifest["sources"].values()
        if source["source_name"] != SOURCE
    ]
    return sorted(names)


def nightly_invocations(target_type: str, args: list[str], manifest: Path) -> list[list[str] | tuple[str, str] | None]:
    """The dbt argument lists (``STEP`` where the Python step runs; on Spark, ``LAKE_TABLES`` first) that build
    ``args`` (``build`` or ``run`` and their flags, no selection) on an engine of ``target_type``, each selection an
    exclusion (see the module).

    After the step, the tests go by dbt's cautious indirect selection: a test runs when all its parents are built,
    so the relationship test of a mart on the step's tables to a mart built before the step (eagerly excluded from
    the first invocation, it reads a table the step feeds) runs in the second one; eager selection would drop it
    there too, as one of its parents is excluded."""
    invocations = dbt_invocations(target_type, args)
    if target_type == "duckdb":
        return invocations
    if not manifest.exists():
        raise FileNotFoundError(f"no dbt manifest at {manifest}: run `python -m orchestration.project` first")
    complement = everything_but_the_step_dependents(json.loads(manifest.read_text(encoding="utf-8")))
    lake_tables = [LAKE_TABLES] if target_type in ("spark", "databricks") else []
    return [
        *lake_tables,
        [*args, *DBT_BEFORE_STEP],
        STEP,
        [*args, "--exclude", " ".join(complement), "--indirect-selection", "cautious"],
    ]


def _run(command: list[str], cwd: Path) -> tuple[int, str]:
    """``command`` in a process of its own in ``cwd``, with this process's environment: its exit code and output."""
    result = subprocess.run(command, cwd=cwd, env=dict(os.environ), capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def create_lake_tables(target: str, database: Path, project_dir: Path, profiles_dir: Path) -> str:
    """``dbt run-operation create_lake_tables`` on ``target`` over the lake the loader writes beside ``database`` (or
    at CONTACT_WAREHOUSE_LAKE), in a dbt process of its own (as the orchestrator's dbt invocations run); returns its
    output. Raises ``LakeTablesError`` naming the lake when it fails (e.g. no files there yet) or is switched off."""
    lake = lake_root(database)
    if lake is None:
        raise LakeTablesError(f"target {target!r} reads the raw rows from the loader's lake, but {LAKE_ENV} is off")
    command = [dbt_executable(), "run-operation", "create_lake_tables", "--args", json.dumps({"lake": lake})]
    command += ["--target", target, "--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir)]
    returncode, output = _run(command, project_dir)
    if returncode != 0:
        raise LakeTablesError(
            f"the lake's tables on target {target!r} (lake {lake}) could not be made (exit {returncode})\n"
            f"{output[-STEP_OUTPUT_TAIL:]}"
        )
    return output


def run_python_step(target: str, dbt_vars: Mapping[str, object] | None, cwd: Path) -> str:
    """``python -m contact_warehouse.engine.python_steps`` for ``target`` with the run's dbt vars, in ``cwd`` (dbt's
    working folder: Spark's session mode keeps its metastore there); returns its output. A process of its own: on
    Spark it starts a JVM and a session, which end with it and never stay in the orchestrator's process."""
    command = [sys.executable, "-m", "contact_warehouse.engine.python_steps", "--target", target]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    returncode, output = _run(command, cwd)
    if returncode != 0:
        # The first line says what failed: the last line of the traceback (the exception and its message).
        cause = next((line for line in reversed(output.splitlines()) if line.strip()), "no output")
        raise PythonStepError(
            f"the Python step on target {target!r} failed (exit {returncode}): {cause}\n{output[-STEP_OUTPUT_TAIL:]}"
        )
    return output
