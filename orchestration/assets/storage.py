"""``warehouse/storage``: the nightly job's step after the publication, and a job of its own to run by hand from
Dagster's UI.

The warehouse's writers run without DuckDB's vacuum; this step rewrites the tables whose deleted rows pass a share
of their stored rows (contact_warehouse/maintenance/storage.py), after the publication so that readers never wait
for it. Its config lowers the limits for a run by hand (``min_deleted_share: 0`` and ``min_deleted_rows: 1``: every
table with a deleted row); ``contact-warehouse vacuum`` does the same from a shell.
"""

import dagster as dg

from contact_warehouse.maintenance.storage import (
    DEFAULT_MIN_DELETED_ROWS,
    DEFAULT_MIN_DELETED_SHARE,
    describe,
    vacuum_warehouse,
)
from orchestration.assets.publication import PUBLICATION_KEY
from orchestration.jobs import alert_on_failure
from orchestration.resources import WarehouseLockResource, WarehouseResource

STORAGE_KEY = dg.AssetKey(["warehouse", "storage"])


class StorageConfig(dg.Config):
    min_deleted_share: float = DEFAULT_MIN_DELETED_SHARE
    min_deleted_rows: int = DEFAULT_MIN_DELETED_ROWS


@dg.asset(
    key=STORAGE_KEY,
    deps=[PUBLICATION_KEY],
    group_name="warehouse",
    kinds={"duckdb"},
    pool="warehouse_writer",
    description=(
        "The build file's deleted rows (the nightly writers run without DuckDB's vacuum): each table whose deleted "
        "rows pass a share of its stored rows is rewritten with its live rows only."
    ),
)
def warehouse_storage(
    context: dg.AssetExecutionContext,
    config: StorageConfig,
    warehouse: WarehouseResource,
    warehouse_lock: WarehouseLockResource,
) -> dg.MaterializeResult:
    result = vacuum_warehouse(
        warehouse.database_path(),
        min_deleted_share=config.min_deleted_share,
        min_deleted_rows=config.min_deleted_rows,
    )
    context.log.info(describe(result))
    return dg.MaterializeResult(
        metadata={
            "deleted_rows_before": dg.MetadataValue.int(result.deleted_rows_before),
            "deleted_rows_removed": dg.MetadataValue.int(result.deleted_rows_removed),
            "tables_rewritten": dg.MetadataValue.json([f"{t.schema}.{t.name}" for t in result.rewritten]),
            "cpu_seconds": dg.MetadataValue.float(result.cpu_seconds),
            "file_mib": dg.MetadataValue.float(round(result.file_bytes_after / 2**20, 1)),
        }
    )


# Run by hand (UI or `dagster job launch`): the step alone, holding the warehouse lock like the nightly job.
vacuum_job = dg.define_asset_job(
    name="vacuum_warehouse_job",
    selection=dg.AssetSelection.assets(STORAGE_KEY),
    description=(
        "Rewrite the build file's tables whose deleted rows pass the configured share (the nightly job does it "
        "as its last step); one run at a time (warehouse lock)."
    ),
    executor_def=dg.in_process_executor,
    hooks={alert_on_failure},
)
