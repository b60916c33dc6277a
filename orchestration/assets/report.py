"""The cockpit report as the last asset of the nightly job: drawn from the serving file just published."""

import dagster as dg

from contact_warehouse.report import render_report
from contact_warehouse.settings import report_dir, serving_db
from orchestration.assets.publication import PUBLICATION_KEY

REPORT_KEY = dg.AssetKey(["serving", "cockpit_report"])


@dg.asset(
    key=REPORT_KEY,
    deps=[PUBLICATION_KEY],
    group_name="serving",
    kinds={"html"},
    description="Static HTML cockpit (index.html) drawn from the serving file only; opens offline.",
)
def cockpit_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    page = render_report(serving_db(), report_dir())
    context.log.info(f"Cockpit report written to {page}")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(page)), "bytes": dg.MetadataValue.int(page.stat().st_size)}
    )
