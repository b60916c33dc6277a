"""Running in production: the run-failure alert (command and webhook), retries of transient failures only, and
``dbt source freshness`` on the raw tables (README "Running in production")."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest

from contact_warehouse.operations.alerts import Alert, send_alert
from contact_warehouse.operations.transient import is_transient, is_transient_text
from contact_warehouse.settings import ROOT
from orchestration.progress import RunProgress

FIXTURE_EXPORTS = Path(__file__).parent / "fixtures" / "exports"


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep pytest's output clean
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A local HTTP server on 127.0.0.1 (a free port) recording the JSON POSTed to it."""
    received: list[dict] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------------------------- alerts


def test_an_alert_reaches_the_command_and_the_webhook(tmp_path: Path, webhook: tuple[str, list[dict]]) -> None:
    url, received = webhook
    out = tmp_path / "alert.txt"
    alert = Alert("run_failure", "run-1", "warehouse_job", "load_calls", "OSError: disk gone")
    problems = send_alert(alert, command=f'cat > {out}; printf "\\n%s" "$ALERT_STEP" >> {out}', webhook=url)
    assert problems == []
    body, step = out.read_text().rsplit("\n", 1)
    assert json.loads(body) == {**alert.payload(), "step": "load_calls"} and step == "load_calls"
    assert received == [{"path": "/alerts", "type": "application/json", "body": alert.payload()}]
    assert alert.payload()["text"] == (
        "contact-warehouse: warehouse_job run run-1 failed at step load_calls: OSError: disk gone"
    )


def test_an_alert_that_cannot_be_delivered_is_reported_not_raised(tmp_path: Path) -> None:
    alert = Alert("run_failure", "run-1", "warehouse_job", "load_calls", "boom")
    with socket_that_refuses() as port:
        problems = send_alert(alert, command="echo nope >&2; exit 4", webhook=f"http://127.0.0.1:{port}/x")
    assert problems[0] == "alert command exited with 4: nope: echo nope >&2; exit 4"
    assert problems[1].startswith(f"alert webhook http://127.0.0.1:{port}/x could not be reached")
    assert send_alert(alert, command="", webhook="ftp://example.org") == [
        "alert webhook 'ftp://example.org' is not an http(s) URL"
    ]


class socket_that_refuses:  # noqa: N801 (used as a context manager)
    """A free port with nothing listening on it."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_failed_run_alerts_with_run_id_job_step_and_first_line(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: tuple[str, list[dict]]
) -> None:
    """The project's job fails at publication (no build file yet): the configured command and webhook both get
    the run id, the job, the failed step and the error's first line, once (the error is not retried)."""
    import dagster as dg

    url, received = webhook
    out = tmp_path / "alert.json"
    monkeypatch.setenv("CONTACT_WAREHOUSE_SERVING_DB", str(tmp_path / "serving" / "serving.duckdb"))
    monkeypatch.setenv("CONTACT_WAREHOUSE_ALERT_COMMAND", f"cat >> {out}")
    monkeypatch.setenv("CONTACT_WAREHOUSE_ALERT_WEBHOOK", url)
    from orchestration.assets.publication import PUBLICATION_KEY
    from orchestration.definitions import defs as build_defs

    defs = build_defs()

    job = defs.resolve_job_def("warehouse_job").get_subset(asset_selection={PUBLICATION_KEY})
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    alert = json.loads(out.read_text())
    assert alert == {
        "kind": "run_failure",
        "run_id": result.run_id,
        "job": "warehouse_job",
        "step": "serving__publication",
        "error": f"FileNotFoundError: no build file to publish: {warehouse}",
        "text": f"contact-warehouse: warehouse_job run {result.run_id} failed at step serving__publication: "
        f"FileNotFoundError: no build file to publish: {warehouse}",
    }
    assert [r["body"] for r in received] == [alert]
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_a_run_whose_process_died_is_alerted_by_the_orphaned_run_sensor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No hook runs in a process killed with SIGKILL: the sensor that marks the run failed sends the alert."""
    import dagster as dg

    from contact_warehouse.settings import lock_path_for
    from orchestration.sensors import orphaned_run_sensor

    db, out = tmp_path / "warehouse.duckdb", tmp_path / "alert.json"
    instance = dg.DagsterInstance.ephemeral()
    run = instance.add_run(dg.DagsterRun(job_name="warehouse_job", status=dg.DagsterRunStatus.STARTED))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_path_for(db).write_text(json.dumps({"pid": int(dead.stdout), "owner": "killed", "run_id": run.run_id}))
    monkeypatch.setenv("CONTACT_WAREHOUSE_DB", str(db))
    monkeypatch.setenv("CONTACT_WAREHOUSE_ALERT_COMMAND", f"cat > {out}")
    monkeypatch.delenv("CONTACT_WAREHOUSE_ALERT_WEBHOOK", raising=False)

    orphaned_run_sensor(dg.build_sensor_context(instance=instance))

    alert = json.loads(out.read_text())
    assert (alert["kind"], alert["run_id"], alert["job"], alert["step"]) == (
        "run_failure",
        run.run_id,
        "warehouse_job",
        "(run process died)",
    )
    assert alert["error"].startswith(f"The run's process (pid {int(dead.stdout)}) died holding the warehouse lock")


def test_a_run_with_two_failing_steps_sends_one_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two independent steps fail for good in one run: the job's failure hook runs for both, the first alerts, the
    second stays quiet; the orphaned-run sensor, finding the same run's process dead later, does not alert again."""
    import dagster as dg

    from contact_warehouse.settings import lock_path_for
    from orchestration.jobs import alert_on_failure
    from orchestration.sensors import orphaned_run_sensor

    db, out = tmp_path / "warehouse.duckdb", tmp_path / "alerts.jsonl"
    monkeypatch.setenv("CONTACT_WAREHOUSE_DB", str(db))
    monkeypatch.setenv("CONTACT_WAREHOUSE_ALERT_COMMAND", f"cat >> {out}; echo >> {out}")
    monkeypatch.delenv("CONTACT_WAREHOUSE_ALERT_WEBHOOK", raising=False)

    @dg.op
    def load_calls() -> None:
        raise OSError("calls export unreadable")

    @dg.op
    def load_chats() -> None:
        raise OSError("chat export unreadable")

    @dg.job(hooks={alert_on_failure}, executor_def=dg.in_process_executor)
    def two_failures() -> None:
        load_calls()
        load_chats()

    instance = dg.DagsterInstance.ephemeral()
    result = two_failures.execute_in_process(instance=instance, raise_on_error=False)
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert sorted(failed) == ["load_calls", "load_chats"]
    alerts = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert len(alerts) == 1 and alerts[0]["run_id"] == result.run_id and alerts[0]["step"] == failed[0]

    # A run whose step failed and alerted, then whose process died holding the warehouse: the sensor marks it
    # failed without a second alert (claim_run_alert is what the hook did for that step).
    from contact_warehouse.operations.alerts import claim_run_alert

    run = instance.add_run(dg.DagsterRun(job_name="warehouse_job", status=dg.DagsterRunStatus.STARTED))
    assert claim_run_alert(run.run_id, db)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_path_for(db).write_text(json.dumps({"pid": int(dead.stdout), "owner": "killed", "run_id": run.run_id}))
    orphaned_run_sensor(dg.build_sensor_context(instance=instance))
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert len([line for line in out.read_text().splitlines() if line.strip()]) == 1


# ---------------------------------------------------------------------------------------------- retries


def test_transient_errors_are_told_from_the_others() -> None:
    lock = duckdb.IOException('Could not set lock on file "w.duckdb": Conflicting lock is held in /usr/bin/duckdb')
    assert is_transient(lock)
    assert is_transient(OSError(errno.ESTALE, "Stale file handle"))
    assert is_transient(RuntimeError("load failed")) is False
    wrapped = RuntimeError("load failed")
    wrapped.__cause__ = lock
    assert is_transient(wrapped)
    assert not is_transient(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_transient(duckdb.IOException("Could not set lock on file: Permission denied"))
    assert not is_transient(ValueError("bad row"))
    assert is_transient_text("model stg_calls: IO Error: Could not set lock on file")
    assert not is_transient_text("test not_null_fct_events_event_id: Got 3 results, configured to fail if != 0")
    assert not is_transient_text(None)


RETRY_SCRIPT = """
import json, sys
import dagster as dg
import duckdb
import orchestration.assets.raw as raw
from orchestration.definitions import defs

failures = {"left": 1}
real = raw.load_export
error = sys.argv[1]

def flaky(*args, **kwargs):
    if failures["left"]:
        failures["left"] -= 1
        if error == "transient":
            raise duckdb.IOException('Could not set lock on file "warehouse.duckdb": Conflicting lock is held in '
                                     'duckdb (PID 4242)')
        raise ValueError("calls_x.csv line 3: not a transient problem")
    return real(*args, **kwargs)

raw.load_export = flaky
job = defs().resolve_job_def("warehouse_job").get_subset(
    asset_selection={raw.raw_asset_key("calls")}, asset_check_selection=set()
)
instance = dg.DagsterInstance.ephemeral()
result = job.execute_in_process(instance=instance, raise_on_error=False)
import io
from pathlib import Path
from orchestration.progress import RunProgress
out = io.StringIO()
progress = RunProgress(out, run_id=result.run_id, serving=Path("s"), report=Path("r"))
for entry in instance.all_logs(result.run_id):
    progress.on_event(entry)
print(json.dumps({
    "success": result.success,
    "events": [e.event_type_value for e in result.all_events if e.step_key == "load_calls"],
    "lines": out.getvalue().splitlines(),
}))
"""


def _run_flaky_load(warehouse: Path, error: str) -> dict:
    env = {
        **os.environ,
        "CONTACT_WAREHOUSE_LANDING": str(FIXTURE_EXPORTS),
        "CONTACT_WAREHOUSE_DB": str(warehouse),
        "CONTACT_WAREHOUSE_RETRY_DELAY_SECONDS": "0",  # the policy's wait, read when the definitions load
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", RETRY_SCRIPT, error], env=env, capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_load_that_fails_once_on_a_lock_is_retried_and_the_run_succeeds(warehouse: Path) -> None:
    outcome = _run_flaky_load(warehouse, "transient")
    events = outcome["events"]
    assert outcome["success"], events
    assert events.count("STEP_UP_FOR_RETRY") == 1 and events.count("STEP_RESTARTED") == 1, events
    assert "STEP_FAILURE" not in events and "STEP_SUCCESS" in events
    retry_line = outcome["lines"][0]
    assert retry_line.startswith("load calls              failed for a moment (") and retry_line.endswith(
        'IOException: Could not set lock on file "warehouse.duckdb": Conflicting lock is held in duckdb (PID 4242)); '
        "retrying"
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:  # the retry loaded the file, once
        assert con.execute("select count(*) from raw.calls").fetchone() == (2,)


def test_a_load_that_fails_on_bad_input_is_not_retried(warehouse: Path) -> None:
    outcome = _run_flaky_load(warehouse, "permanent")
    events = outcome["events"]
    assert not outcome["success"]
    assert events.count("STEP_START") == 1 and "STEP_UP_FOR_RETRY" not in events and "STEP_FAILURE" in events


def test_the_steps_that_may_fail_for_a_moment_have_a_retry_policy() -> None:
    from contact_warehouse.operations import run_lines as progress
    from orchestration.definitions import defs as build_defs

    defs = build_defs()
    from orchestration.freshness import FRESHNESS_CHECK
    from orchestration.retries import DBT_RETRY, STEP_RETRY

    job = defs.resolve_job_def("warehouse_job")
    policies = {name: node.definition.retry_policy for name, node in job.graph.node_dict.items()}
    assert {name for name, policy in policies.items() if policy == STEP_RETRY} == {
        *(name for name in policies if name.startswith("load_")),
        "serving__publication",
    }
    assert policies["warehouse_dbt_assets"] == DBT_RETRY
    assert policies["serving__cockpit_report"] is None and policies[FRESHNESS_CHECK] is None
    assert STEP_RETRY.max_retries == 3 and DBT_RETRY.max_retries == 2
    assert progress.FRESHNESS_CHECK == FRESHNESS_CHECK


# -------------------------------------------------------------------------------------------- freshness


def test_a_stale_export_is_reported_by_the_nightly_job_and_alerted(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load_fixture_exports: None
) -> None:
    """Calls last loaded 30 hours ago (past warn, 26 h), chat 60 hours ago (past error, 50 h), surveys never (the
    fixture's file is refused): the job's freshness checks say so, never block, and the error-level ones alert."""
    import dagster as dg

    from orchestration.assets.raw import raw_assets
    from orchestration.definitions import defs as build_defs

    defs = build_defs()

    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw.calls set _loaded_at = _loaded_at - interval 30 hour")
        con.execute("update raw.chat_conversations set _loaded_at = _loaded_at - interval 60 hour")
    out = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("CONTACT_WAREHOUSE_ALERT_COMMAND", f"cat >> {out}; echo >> {out}")
    monkeypatch.delenv("CONTACT_WAREHOUSE_ALERT_WEBHOOK", raising=False)
    raw_keys = set().union(*(asset.keys for asset in raw_assets))
    job = defs.resolve_job_def("warehouse_job").get_subset(asset_selection=raw_keys)
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success  # the loaders found nothing new; stale exports do not fail the run
    checks = {
        e.asset_check_evaluation_data.asset_key.path[-1]: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    status = {table: check.metadata["status"].value for table, check in checks.items()}
    assert status == {
        "calls": "warn",
        "chat_conversations": "error",
        "form_submissions": "pass",
        "surveys": "error",
        "sms": "error",
        "ivr_events": "error",
        "faq_views": "error",
        "customers": "error",
    }
    assert {table for table, check in checks.items() if check.passed} == {"form_submissions"}
    assert {check.severity.value for check in checks.values()} == {"WARN"}
    assert checks["calls"].description.startswith("raw.calls (phone_system): stale, warn (last load ")
    assert checks["calls"].description.endswith("30.0 hours ago; warn after 26 hours)")
    assert (
        checks["surveys"].description
        == "raw.surveys (phone_system): no row was ever loaded (error; error after 50 hours)"
    )
    alerts = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert len(alerts) == 1 and alerts[0]["kind"] == "stale_source" and alerts[0]["run_id"] == result.run_id
    assert "raw.chat_conversations (chat): stale, error" in alerts[0]["error"]
    assert "raw.calls" not in alerts[0]["error"]  # warn-level: shown, not alerted
    # The CLI's line for the step.
    out = io.StringIO()
    progress = RunProgress(out, run_id=result.run_id, serving=tmp_path / "s", report=tmp_path / "r")
    for entry in instance.all_logs(result.run_id):
        progress.on_event(entry)
    (line,) = [line for line in out.getvalue().splitlines() if line.startswith("source freshness")]
    assert line.startswith("source freshness        7 of 8 exports stale: raw.chat_conversations (chat): stale, error")
    assert line.endswith("(and 6 more)")


@pytest.fixture
def load_fixture_exports(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import load_landing

    monkeypatch.setenv("CONTACT_WAREHOUSE_LANDING", str(FIXTURE_EXPORTS))
    load_landing(warehouse, FIXTURE_EXPORTS)


def test_freshness_is_dbt_s_rule_read_from_the_manifest(tmp_path: Path) -> None:
    """Past a threshold means older than it (exactly 26 hours still passes), a filter keeps only its rows, an empty
    table was never loaded (error), a missing table is a runtime error, a source without threshold is not checked."""
    from datetime import UTC, datetime

    from contact_warehouse.operations.freshness import measure_freshness

    hours = {"warn_after": {"count": 26, "period": "hour"}, "error_after": {"count": 2, "period": "day"}}

    def source(name: str, criteria: dict) -> dict:
        return {
            "source_name": "tool",
            "name": name,
            "identifier": name,
            "schema": "raw",
            "loaded_at_field": "_loaded_at",
            "freshness": criteria,
        }

    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "sources": {
                    "a": source("exactly_26h", hours),
                    "b": source("filtered", {**hours, "filter": "kind = 'real'"}),
                    "c": source("empty", hours),
                    "d": source("missing", hours),
                    "e": source("no_threshold", {"warn_after": {}, "error_after": {}}),
                    "f": source("three_days", hours),
                }
            }
        )
    )
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.exactly_26h as select timestamp '2026-12-02 10:00:00' as _loaded_at")
    con.execute(
        "create table raw.filtered as select * from (values (timestamp '2026-12-02 09:00:00', 'real'), "
        "(timestamp '2026-12-03 11:00:00', 'test')) t(_loaded_at, kind)"
    )
    con.execute("create table raw.empty (_loaded_at timestamp)")
    con.execute("create table raw.no_threshold as select timestamp '2020-01-01' as _loaded_at")
    con.execute("create table raw.three_days as select timestamp '2026-11-30 11:00:00' as _loaded_at")
    found = {r.table: r for r in measure_freshness(con, manifest, now=now)}
    assert {t: r.status for t, r in found.items()} == {
        "empty": "error",
        "exactly_26h": "pass",
        "filtered": "warn",
        "missing": "runtime error",
        "three_days": "error",
    }
    assert found["filtered"].age_hours == 27.0 and found["filtered"].warn_after == "26 hours"
    assert found["empty"].max_loaded_at is None and found["empty"].sentence().endswith("(error; error after 2 days)")
    assert "missing" in found["missing"].message
