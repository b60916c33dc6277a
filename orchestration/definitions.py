"""Assembles the Dagster code location: raw loaders, dbt assets (with dbt tests as checks), job, resources."""

import dagster as dg

from orchestration.assets.dbt import warehouse_dbt_assets
from orchestration.assets.raw import raw_assets
from orchestration.jobs import nightly_job
from orchestration.resources import build_resources

defs = dg.Definitions(
    assets=[*raw_assets, warehouse_dbt_assets],
    jobs=[nightly_job],
    resources=build_resources(),
)
