"""The dbt project as Dagster assets: dbt sources map onto the raw loader assets, each model's dbt tests become one
asset check (``dbt_tests``, orchestration/dbt_checks.py), and one `dbt build` runs everything selected (off DuckDB,
two with the Python step between them). Built on first use (``warehouse_dbt_assets()``): the decorator reads the
manifest, which importing this module must not require (orchestration/project.py)."""

import json
import shutil
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtError

from contact_warehouse.engine.engine_marts import copy_engine_marts, target_type
from contact_warehouse.engine.nightly_dbt import (
    LAKE_TABLES,
    LakeTablesError,
    PythonStepError,
    create_lake_tables,
    nightly_invocations,
    run_python_step,
)
from contact_warehouse.engine.postgres import sync_raw_tables
from contact_warehouse.engine.python_steps import STEP
from contact_warehouse.operations.causes import dbt_failure_cause
from contact_warehouse.settings import parse_dbt_vars, warehouse_db
from orchestration.assets.raw import raw_asset_key
from orchestration.dbt_checks import ModelTestResults, ModelTestsTranslator, subset_test_selection
from orchestration.project import dbt_project
from orchestration.retries import DBT_RETRY, only_transient_retries


class WarehouseDbtTranslator(ModelTestsTranslator):
    """dbt sources read the raw schema: each one is the asset of the raw table of the same name. A model's dbt tests
    are one asset check (ModelTestsTranslator)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return raw_asset_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        # fqn: project, folder, ...: staging / intermediate / marts, or the seed's knowledge base.
        if dbt_resource_props["resource_type"] == "seed":
            return "knowledge_base"
        return fqn[1] if len(fqn) > 2 else None


# dagster-dbt gives every run its own target folder; the newest are kept for debugging a failed night.
KEPT_RUN_TARGETS = 5


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    # A YAML or JSON mapping, as dbt's own --vars; every name must be declared under vars: in dbt_project.yml.
    vars: str = ""


translator = WarehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
# The op's name: the step key in run logs and run config, and the prefix of its per-run dbt target folders.
DBT_ASSETS_NAME = "warehouse_dbt_assets"


@cache
def warehouse_dbt_assets() -> dg.AssetsDefinition:
    """Every dbt model, seed and test of the manifest as one multi-asset (built once per process)."""
    project = dbt_project()
    return dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=translator,
        project=project,
        name=DBT_ASSETS_NAME,
        pool="warehouse_writer",
        retry_policy=DBT_RETRY,
    )(dbt_build_with_retries)


def dbt_build_with_retries(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig) -> Iterator:
    # Retried only when dbt failed on a transient cause (the build file locked by another process): a failed test
    # or model fails the same way again.
    with only_transient_retries():
        yield from dbt_build(context, dbt, config)


# The nightly build runs the models, seeds and data tests, not dbt's unit tests: those check the models' SQL on fixed
# rows written in their YAML, never on the night's data, so a night re-proves what the code's tests proved (they run
# in the test suite, tests/test_dbt_unit_tests.py, and on PostgreSQL in tests/test_engines.py). dbt's own advice; 48
# nodes and about a third of the medium increment's test time (DECISIONS.md "The nightly build runs no unit tests").
NIGHTLY_BUILD = ["build", "--exclude-resource-type", "unit_test"]


# One `dbt build` of what the run selected; dagster-dbt turns its events into materializations and checks. Off DuckDB,
# two builds with the Python step between them (engine/nightly_dbt.py), each streamed in turn.
def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig) -> Iterator:
    engine = target_type(dbt.target, Path(dbt.profiles_dir or dbt.project_dir))
    if engine == "postgres":  # the loader wrote the day's raw rows to the build file: PostgreSQL gets them first
        synced = sync_raw_tables(warehouse_db())
        context.log.info(f"Copied {sum(synced.values())} new raw rows of {len(synced)} tables to PostgreSQL.")
    args = [*NIGHTLY_BUILD, "--full-refresh"] if config.full_refresh else [*NIGHTLY_BUILD]
    dbt_vars = {}
    if config.vars:
        try:
            dbt_vars = parse_dbt_vars(config.vars)
        except ValueError as error:
            raise dg.Failure(description=str(error)) from None
        args += ["--vars", json.dumps(dbt_vars)]
    tests = ModelTestResults(context)
    try:
        current = yield from _run_invocations(context, dbt, engine, args, dbt_vars, tests)
    except Exception:
        yield from tests.check_results()  # the tests that ran before the failure still report
        raise
    yield from tests.check_results()
    copy_marts_of_another_engine(context, dbt, engine)
    prune_run_targets(current.parent, keep=KEPT_RUN_TARGETS, current=current)


def _run_invocations(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    engine: str,
    args: list[str],
    dbt_vars: dict,
    tests: ModelTestResults,
) -> Iterator:
    """The night's dbt invocations and steps in order (engine/nightly_dbt.py); returns the last target folder."""
    # A check run without its model's other checks or without its model: its tests by name, in each invocation (the
    # sequence itself takes no --select; each invocation's exclusions still apply).
    selection = subset_test_selection(context)
    current = None
    for step in nightly_invocations(engine, args, dbt_project().manifest_path):
        if step is LAKE_TABLES:
            context.log.info(f"The lake's tables on {engine} (target {dbt.target}), made where missing.")
            try:
                create_lake_tables(
                    str(dbt.target), warehouse_db(), Path(dbt.project_dir), Path(dbt.profiles_dir or dbt.project_dir)
                )
            except LakeTablesError as error:
                raise dg.Failure(description=str(error).split("\n", 1)[0], metadata={"output": str(error)}) from None
            continue
        if step is STEP:
            context.log.info(f"Python step on {engine} (target {dbt.target}): the dbt Python models' tables.")
            try:
                output = run_python_step(str(dbt.target), dbt_vars, Path(dbt.project_dir))
            except PythonStepError as error:
                raise dg.Failure(description=str(error).split("\n", 1)[0], metadata={"output": str(error)}) from None
            context.log.info(output)
            continue
        current = yield from _stream_dbt(context, dbt, [*step, *selection], tests)
    return current


def _stream_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, args: list[str], tests: ModelTestResults
) -> Iterator:
    """One dbt invocation's events (its test results kept by ``tests``); returns its target folder."""
    invocation = dbt.cli(args, context=context)
    current = Path(invocation.project_dir) / invocation.target_path
    try:
        yield from tests.stream(invocation)
    except DagsterDbtError as error:
        # dagster-dbt says only "dbt build failed"; the first line must say what to fix.
        cause = dbt_failure_cause(current)
        if cause is None:
            raise
        raise dg.Failure(
            description=f"dbt build failed: {cause}",
            metadata={"dbt_target": dg.MetadataValue.path(str(current))},
        ) from error
    return current


def copy_marts_of_another_engine(context: dg.AssetExecutionContext, dbt: DbtCliResource, engine: str) -> None:
    """A build on another engine (CONTACT_WAREHOUSE_DBT_TARGET: postgres, spark): its marts are copied into the build
    file before this step ends, so the checks and publication after it read them (engine/engine_marts.py)."""
    if engine == "duckdb":
        return
    copied = copy_engine_marts(warehouse_db(), engine)
    context.log.info(
        f"Copied {len(copied.tables)} marts built on {engine} (target {dbt.target}) into {warehouse_db()}"
        + (f"; empty there: {', '.join(copied.empty)}" if copied.empty else "")
        + (f"; and the checked tables {', '.join(copied.checked)}" if copied.checked else "")
    )
    if copied.missing:
        context.log.warning(f"Not built on {engine}, so removed from the build file: {', '.join(copied.missing)}")


def prune_run_targets(target_root: Path, keep: int, current: Path) -> list[Path]:
    """Remove all but the newest ``keep`` per-run dbt target folders (``warehouse_dbt_assets-<run>-<id>``, about
    18 MB each on the sample: a nightly schedule would pile them up), never ``current``. Returns those removed."""
    runs = sorted(
        (path for path in target_root.glob(f"{DBT_ASSETS_NAME}-*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    removed = [path for path in runs[keep:] if path.resolve() != current.resolve()]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed
