"""Jobs: the whole pipeline (load every export, then dbt build with its tests)."""

import dagster as dg

nightly_job = dg.define_asset_job(
    name="warehouse_job",
    selection=dg.AssetSelection.all(),
    description="Load new export files, then dbt build (models and tests) on the warehouse.",
)
