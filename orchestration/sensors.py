"""Sensors: start a run when export files land; release the queue when a run died holding the warehouse.

``landing_files``: one run request per file not yet in the ledger, keyed by its sha256. Dagster never starts two
runs with the same run key, so the same bytes never trigger two runs, whatever their name. The ledger is read with
a read-only connection while holding the warehouse lock shared; when a run holds it, or the file cannot be read,
the tick is skipped and the files are looked at again on the next one.

``orphaned_warehouse_runs``: a run killed with SIGKILL stays "started" in Dagster's storage, and with one run at a
time the queue would wait for it forever. The warehouse lock tells a dead run from a live one (locking.py).
"""

from __future__ import annotations

import dagster as dg

from contact_warehouse.loading.new_files import WarehouseBusy, new_landing_files
from contact_warehouse.operations.alerts import Alert, claim_run_alert, send_alert
from contact_warehouse.publication.locking import dead_holder
from contact_warehouse.settings import landing_dir, profiles_dir, warehouse_db
from orchestration.jobs import warehouse_job

FILE_TAG = "contact_warehouse/landing_file"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _run_in_flight(context: dg.SensorEvaluationContext) -> bool:
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:
        return False
    runs = instance.get_runs(dg.RunsFilter(job_name=warehouse_job.name, statuses=IN_FLIGHT), limit=1)
    return bool(runs)


@dg.sensor(
    name="landing_files",
    job=warehouse_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="One run per new export file in the landing folder (run key: the file's sha256).",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    if _run_in_flight(context):
        return dg.SensorResult(skip_reason="A warehouse run is queued or running; new files wait for the next tick.")
    landing = landing_dir()
    try:
        files = new_landing_files(landing, profiles_dir(), warehouse_db())
    except WarehouseBusy as busy:
        return dg.SensorResult(skip_reason=f"Warehouse busy ({busy}); trying again on the next tick.")
    except OSError as error:  # a file vanished or is unreadable mid-listing
        return dg.SensorResult(skip_reason=f"Landing folder {landing} could not be read: {error}")
    if not files:
        return dg.SensorResult(skip_reason=f"No new export file in {landing}.")
    requests = []
    for file in files:
        try:
            name = str(file.path.relative_to(landing))
        except ValueError:
            name = str(file.path)
        requests.append(dg.RunRequest(run_key=file.sha256, tags={FILE_TAG: name}))
    return dg.SensorResult(run_requests=requests)


@dg.sensor(
    name="orphaned_warehouse_runs",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed a warehouse run whose process died holding the warehouse lock, so the queue moves on.",
)
def orphaned_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    record = dead_holder(warehouse_db())
    run_id = (record or {}).get("run_id")
    if not run_id:
        return dg.SkipReason("No run died holding the warehouse.")
    run = context.instance.get_run_by_id(run_id)
    if run is None or run.status not in IN_FLIGHT:
        return dg.SkipReason(f"The last run to die holding the warehouse ({run_id}) is already settled.")
    message = (
        f"The run's process (pid {record.get('pid')}) died holding the warehouse lock (SIGKILL or crash); "
        "marked failed so that queued runs can start. It published nothing: the serving file is as it was."
    )
    context.instance.report_run_failed(run, message=message)
    # No step hook ran in a process that died: the run-failure alert is sent from here, unless a step that failed
    # before the process died had sent it (one alert per failed run).
    if claim_run_alert(run_id, warehouse_db()):
        for problem in send_alert(Alert("run_failure", run_id, run.job_name, "(run process died)", message)):
            context.log.warning(f"Alert not delivered: {problem}")
    return dg.SkipReason(f"Marked run {run_id} failed: its process died holding the warehouse.")
