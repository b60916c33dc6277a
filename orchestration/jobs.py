"""The one job: load new export files, dbt build (models and tests), expectation checks, publication.

Every step runs in one process (in-process executor) while the run holds the warehouse lock (locking.py): the
lock resource is required by the job's failure hook, hence by every step, hence initialised once when the run
starts and released when it ends, whoever launched the run (daemon, UI, ``contact-warehouse run``, tests).
"""

import dagster as dg

from contact_warehouse.settings import serving_db


@dg.failure_hook(required_resource_keys={"warehouse_lock"})
def report_unpublished(context: dg.HookContext) -> None:
    """Say what a failed step means for readers: the serving file keeps the last good publication."""
    context.log.error(
        f"Step {context.step_key} failed: this run does not publish; {serving_db()} keeps the last good "
        f"publication. Cause: {context.op_exception}"
    )


warehouse_job = dg.define_asset_job(
    name="warehouse_job",
    selection=dg.AssetSelection.all(),
    description=(
        "Load new export files, dbt build (models and tests), run the expectation suites, then publish the marts "
        "to the serving file if every blocking check passed. One run at a time (warehouse lock)."
    ),
    executor_def=dg.in_process_executor,
    hooks={report_unpublished},
)
