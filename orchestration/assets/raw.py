"""One Dagster asset per tool export: it loads the export's new files into the raw schema (one asset key per
raw table, ``["raw", <table>]``), recording every file in the ledger and every bad row in the quarantine."""

from pathlib import Path

import dagster as dg

from contact_warehouse.loading.loader import LoadReport, load_export
from contact_warehouse.loading.sources import EXPORTS, Export
from orchestration.resources import WarehouseResource
from orchestration.retries import STEP_RETRY, only_transient_retries

RAW_GROUP = "raw"


def raw_asset_key(table_name: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table_name])


def _report_metadata(report: LoadReport) -> dict[str, dg.MetadataValue]:
    return {
        "files_loaded": dg.MetadataValue.int(len(report.by_status("loaded"))),
        "files_skipped": dg.MetadataValue.int(len(report.by_status("skipped"))),
        "files_refused": dg.MetadataValue.int(len(report.by_status("refused"))),
        "rows_read": dg.MetadataValue.int(report.rows_read),
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_rejected": dg.MetadataValue.int(report.rows_rejected),
    }


def build_raw_asset(export: Export) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            raw_asset_key(table.name),
            group_name=RAW_GROUP,
            kinds={"duckdb"},
            description=f"{export.tool}: {table.name} from the '{export.name}' export. {export.description}",
        )
        for table in export.tables
    ]

    @dg.multi_asset(name=f"load_{export.name}", specs=specs, pool="warehouse_writer", retry_policy=STEP_RETRY)
    def _load(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with only_transient_retries():
            con = warehouse.connect()
            try:
                report = load_export(con, export.name, Path(warehouse.landing_path()), Path(warehouse.profiles_path()))
            finally:
                con.close()
        for refused in report.by_status("refused"):
            context.log.error(f"Refused file: {refused.message}")
        if report.rows_rejected:
            context.log.warning(
                f"{report.rows_rejected} of {report.rows_read} rows of '{export.name}' quarantined "
                "(see raw._quarantine: file, line, field, reason)"
            )
        metadata = _report_metadata(report)
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)

    return _load


raw_assets = [build_raw_asset(export) for export in EXPORTS]
