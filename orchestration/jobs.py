"""The one job: load new export files, dbt build (models and tests), expectation checks, publication.

Every step runs in one process (in-process executor) while the run holds the warehouse lock (locking.py): the
lock resource is required by the job's failure hook, hence by every step, hence initialised once when the run
starts and released when it ends, whoever launched the run (daemon, UI, ``contact-warehouse run``, tests).
"""

import dagster as dg

from contact_warehouse.operations.alerts import Alert, claim_run_alert, first_line, send_alert
from contact_warehouse.settings import serving_db, warehouse_db


@dg.failure_hook(required_resource_keys={"warehouse_lock"})
def report_unpublished(context: dg.HookContext) -> None:
    """Say what a failed step means for readers: the serving file keeps the last good publication."""
    context.log.error(
        f"Step {context.step_key} failed: this run does not publish; {serving_db()} keeps the last good "
        f"publication. Cause: {context.op_exception}"
    )


@dg.failure_hook
def alert_on_failure(context: dg.HookContext) -> None:
    """The run-failure alert (CONTACT_WAREHOUSE_ALERT_COMMAND / _WEBHOOK): a hook, not a run-failure sensor, so that
    it fires however the run was started, `contact-warehouse run` included (a sensor needs the daemon). It runs for
    each step that failed for good (not on a failure that is retried) and alerts for the first only: one alert per
    failed run (contact_warehouse.operations.alerts.claim_run_alert)."""
    if not claim_run_alert(context.run_id, warehouse_db()):
        context.log.info(f"Step {context.step_key} failed too; run {context.run_id} was already alerted.")
        return
    error = context.op_exception
    text = (getattr(error, "description", None) or f"{type(error).__name__}: {error}") if error else "unknown error"
    alert = Alert("run_failure", context.run_id, context.job_name, context.step_key, first_line(text))
    for problem in send_alert(alert):
        context.log.warning(f"Alert not delivered: {problem}")


warehouse_job = dg.define_asset_job(
    name="warehouse_job",
    selection=dg.AssetSelection.all(),
    description=(
        "Load new export files, dbt build (models and tests), run the expectation suites, then publish the marts "
        "to the serving file if every blocking check passed. One run at a time (warehouse lock)."
    ),
    executor_def=dg.in_process_executor,
    hooks={report_unpublished, alert_on_failure},
)
