"""The dbt project as Dagster assets: dbt sources map onto the raw loader assets, dbt tests become asset
checks, and one `dbt build` runs everything selected."""

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.assets.raw import raw_asset_key
from orchestration.project import dbt_project


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """dbt sources read the raw schema: each one is the asset of the raw table of the same name."""

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


translator = WarehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=translator,
    project=dbt_project,
    pool="warehouse_writer",
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    current = Path(invocation.project_dir) / invocation.target_path
    prune_run_targets(current.parent, keep=KEPT_RUN_TARGETS, current=current)


def prune_run_targets(target_root: Path, keep: int, current: Path) -> list[Path]:
    """Remove all but the newest ``keep`` per-run dbt target folders (``warehouse_dbt_assets-<run>-<id>``, about
    18 MB each on the sample: a nightly schedule would pile them up), never ``current``. Returns those removed."""
    runs = sorted(
        (path for path in target_root.glob(f"{warehouse_dbt_assets.op.name}-*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    removed = [path for path in runs[keep:] if path.resolve() != current.resolve()]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed
