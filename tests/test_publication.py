"""Nightly runs: a clean run publishes the marts (only the marts) with meta.publication; a blocking check that
fails leaves the serving file byte for byte as it was; readers never see a half-written file; one run at a time;
a run killed with SIGKILL mid-load or mid-build (mid-build: its dbt dies with it, and a run started at once is
refused in one line or succeeds, never failing on DuckDB's file lock) is followed by a run that publishes the same
marts; the landing sensor asks for one run per new file. The clean run is the session's `contact-warehouse run` on
the small landing folder (conftest.py `small_run`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import CLI, CliRun, environment
from processes import KILLER, alive, dbt_writing, outputs, start
from small_landing import SMS, write_landing

from contact_warehouse.publication.locking import dead_holder, exclusive_warehouse_lock, lock_path_for
from contact_warehouse.publication.publish import publish, read_publication
from orchestration.assets.publication import PUBLICATION_KEY
from orchestration.definitions import defs
from orchestration.schedules import schedule_timezone
from orchestration.sensors import FILE_TAG, landing_sensor, orphaned_run_sensor

INSTANCE = dg.DagsterInstance.ephemeral()
SURVEY_CHECK = dg.AssetCheckKey(dg.AssetKey(["staging", "stg_phone_system__survey_answers"]), "great_expectations")
# Raw identifiers must never reach the serving file: e-mails, and phone numbers in any usual shape.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w+])(\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)|(?<![\w+])\+\d{8,15}(?!\w)")


# ------------------------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Site:
    """One deployment: a build file, its serving file, a landing folder; laid out as `contact-warehouse run` lays
    them out (``data/`` beside the run's folder), so a CLI run's folder is a site."""

    root: Path
    landing: Path
    # One key for the sites whose marts are compared: runs of the same exports then publish the same customer hashes
    # (without it, each site's first run would create a random key of its own).
    pii_key: str = "test-publication-key"

    @property
    def db(self) -> Path:
        return self.root / "data" / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "data" / "serving.duckdb"

    def env(self) -> dict[str, str]:
        return {
            "CONTACT_WAREHOUSE_DB": str(self.db),
            "CONTACT_WAREHOUSE_LANDING": str(self.landing),
            "CONTACT_WAREHOUSE_SERVING_DB": str(self.serving),
            "CONTACT_WAREHOUSE_PII_KEY": self.pii_key,
        }


def run_job(site: Site, job: dg.JobDefinition | None = None) -> dg.ExecuteInProcessResult:
    site.db.parent.mkdir(parents=True, exist_ok=True)
    job = job or defs().resolve_job_def("warehouse_job")
    with environment(site.env()):
        return job.execute_in_process(instance=INSTANCE, raise_on_error=False)


def run_messages(result: dg.ExecuteInProcessResult) -> str:
    """Everything the run said: Dagster events with their error data, and the log lines of steps and hooks."""
    return "\n".join(
        f"{entry.user_message} {entry.dagster_event.event_specific_data if entry.dagster_event else ''}"
        for entry in INSTANCE.all_logs(result.run_id)
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marts_snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every marts table's rows, sorted, doubles rounded (parallel sums may differ in the last bits)."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' order by table_name, ordinal_position"
        ).fetchall()
        tables: dict[str, list[str]] = {}
        for table, column, data_type in columns:
            expr = f'round("{column}", 6)' if data_type in ("DOUBLE", "FLOAT") else f'"{column}"'
            tables.setdefault(table, []).append(expr)
        return {
            table: con.execute(f'select {", ".join(exprs)} from marts."{table}" order by all').fetchall()
            for table, exprs in tables.items()
        }


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_landing(tmp_path_factory.mktemp("landing"))


@pytest.fixture(scope="module")
def clean(small_run: CliRun) -> tuple[Site, CliRun]:
    """One clean run of the whole job: the session's `contact-warehouse run` on the small landing folder (read-only
    for the tests that use it; they copy its files to change them)."""
    small_run.succeeded()
    site = Site(small_run.root, small_run.landing)
    assert (site.db, site.serving) == (small_run.db, small_run.serving)
    return site, small_run


# ------------------------------------------------------------------------------------------ tests


def test_a_clean_run_publishes_the_marts_with_meta_publication(clean) -> None:
    site, run = clean
    meta = read_publication(site.serving)
    assert meta is not None and meta["status"] == "published"
    # The run's log (every Dagster event): loads, models and the publication materialized, in the run named by
    # meta.publication.
    steps = {
        line.split(" - ")[6]
        for line in run.log.read_text().splitlines()
        if f" - {meta['run_id']} - " in line and " - ASSET_MATERIALIZATION - " in line
    }
    assert {"load_calls", "warehouse_dbt_assets", "serving__publication"} <= steps, steps
    with duckdb.connect(str(site.serving), read_only=True) as con:
        schemas = {s for (s,) in con.execute("select schema_name from information_schema.schemata").fetchall()}
        tables = dict(
            con.execute("select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'").fetchall()
        )
        counts = {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in tables}
    assert schemas - {"main", "information_schema", "pg_catalog"} == {"marts", "meta"}
    assert meta["tables"] == counts
    with duckdb.connect(str(site.db), read_only=True) as con:
        built = {
            t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
    assert set(counts) == built and built, "every marts table, and only those, is published"
    assert counts["fct_survey_answers"] == 4  # three survey-tool answers and one chat rating (a CSAT answer)
    with duckdb.connect(str(site.serving), read_only=True) as con:
        uncommented = con.execute(
            "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns() "
            "where schema_name in ('marts', 'meta') and coalesce(comment, '') = ''"
        ).fetchall()
        tables_without = con.execute(
            "select table_name from duckdb_tables() "
            "where schema_name in ('marts', 'meta') and coalesce(comment, '') = ''"
        ).fetchall()
    assert uncommented == [] and tables_without == [], "every serving-file table and column explains itself"
    checks = {(c["asset_key"], c["check_name"]): c for c in meta["checks"]}
    survey = checks[("staging/stg_phone_system__survey_answers", "great_expectations")]
    assert survey["passed"] and survey["severity"] == "ERROR"
    # dbt's tests are listed one by one, by name, though Dagster ran them as one check per model.
    calls = checks[("staging/stg_phone_system__calls", "unique_stg_phone_system__calls_call_id")]
    assert calls["passed"] and calls["severity"] == "ERROR"
    assert ("staging/stg_phone_system__calls", "dbt_tests") not in checks


def test_no_text_column_of_the_serving_file_holds_a_phone_number_or_an_email(clean) -> None:
    site, _ = clean
    with duckdb.connect(str(site.serving), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        ).fetchall()
        assert columns
        leaks = []
        for schema, table, column in columns:
            values = con.execute(f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null')
            leaks += [(table, column, v) for (v,) in values.fetchall() if EMAIL.search(v) or PHONE.search(v)]
    assert leaks == []
    # The scan would see them: the build file's staging holds the same people's raw identifiers.
    with duckdb.connect(str(site.db), read_only=True) as con:
        raw = [v for (v,) in con.execute("select phone_raw from staging.stg_crm__customers").fetchall()]
    assert raw and all(PHONE.search(v) for v in raw)


def test_a_failing_blocking_check_leaves_the_serving_file_untouched(clean, tmp_path: Path) -> None:
    site, _ = clean
    bad = Site(tmp_path / "bad", site.landing)
    shutil.copytree(site.db.parent, bad.db.parent)  # the warehouse and its serving file
    # A bad value in the staging table that only the expectations know: an answer from the future (dbt's own
    # tests stop keys, nulls and ranges earlier, in dbt build).
    with duckdb.connect(str(bad.db)) as con:
        con.execute(
            "update staging.stg_phone_system__survey_answers set responded_at = timestamp '2099-01-01' "
            "where response_id = 'SV3'"
        )
    before, inode = digest(bad.serving), bad.serving.stat().st_ino
    job = (
        defs()
        .resolve_job_def("warehouse_job")
        .get_subset(asset_selection={PUBLICATION_KEY}, asset_check_selection={SURVEY_CHECK})
    )

    result = run_job(bad, job)

    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == SURVEY_CHECK and not evaluation.passed
    failure = evaluation.metadata["failed_1: expect_column_values_to_be_between(responded_at)"].value
    assert failure["offending_values"] == ["2099-01-01T00:00:00"]
    assert failure["offending_rows"] == [{"responded_at": "2099-01-01T00:00:00", "response_id": "SV3"}]
    assert "2099" in evaluation.description
    messages = run_messages(result)
    assert "great_expectations" in messages and "does not publish" in messages
    assert PUBLICATION_KEY not in {e.asset_key for e in result.get_asset_materialization_events()}
    assert digest(bad.serving) == before and bad.serving.stat().st_ino == inode
    assert read_publication(bad.serving)["run_id"] == read_publication(site.serving)["run_id"]


READER = """
import json, sys, duckdb
path = sys.argv[1]
def snapshot(con):
    run_id, tables = con.execute("select run_id, tables from meta.publication").fetchone()
    counts = {t["table_name"]: con.execute(f'select count(*) from marts."{t["table_name"]}"').fetchone()[0]
              for t in tables}
    return {"run_id": run_id, "counts": counts, "declared": {t["table_name"]: t["row_count"] for t in tables}}
con = duckdb.connect(path, read_only=True)
print(json.dumps(snapshot(con)), flush=True)
for line in sys.stdin:
    if line.strip() == "reconnect":
        con.close()
        con = duckdb.connect(path, read_only=True)
    print(json.dumps(snapshot(con)), flush=True)
"""


def test_a_reader_keeps_a_consistent_copy_during_a_swap_and_sees_the_new_one_next(clean, tmp_path: Path) -> None:
    site, _ = clean
    serving = tmp_path / "serving.duckdb"
    shutil.copy(site.serving, serving)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        first = json.loads(reader.stdout.readline())
        publish(site.db, serving, run_id="second-publication")  # while the reader holds the file open
        reader.stdin.write("again\n")
        reader.stdin.flush()
        during = json.loads(reader.stdout.readline())
        reader.stdin.write("reconnect\n")
        reader.stdin.flush()
        after = json.loads(reader.stdout.readline())
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    assert reader.returncode == 0
    assert first["counts"] == first["declared"] and first["run_id"] != "second-publication"
    assert during == first, "the open connection keeps reading the file it opened"
    assert after["run_id"] == "second-publication" and after["counts"] == after["declared"]
    assert not list(tmp_path.glob(".serving.duckdb.*")), "no temporary file is left behind"


def test_only_the_marts_schema_is_published_and_an_empty_build_publishes_meta_only(tmp_path: Path) -> None:
    build = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema raw; create table raw.calls as select '+14155550101' as from_number")
        con.execute("create schema staging; create table staging.stg as select 1 as x")
    serving = tmp_path / "out" / "serving.duckdb"
    assert publish(build, serving, run_id="early").tables == {}
    assert read_publication(serving)["tables"] == {}
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts; create table marts.fct_a as select 1 as x union all select 2")
        con.execute("create view marts.v_b as select * from staging.stg")
    assert publish(build, serving, run_id="later").tables == {"fct_a": 2, "v_b": 1}
    with duckdb.connect(str(serving), read_only=True) as con:
        assert (
            con.execute(
                "select count(*) from duckdb_tables() where schema_name <> 'marts' and schema_name <> 'meta'"
            ).fetchone()[0]
            == 0
        )


def test_a_first_publication_is_private_and_a_later_one_keeps_the_serving_file_s_mode(tmp_path: Path) -> None:
    import stat

    build = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts; create table marts.fct_a as select 1 as x")
    serving = tmp_path / "out" / "serving.duckdb"
    previous = os.umask(0o022)  # the usual umask: files are created readable by everyone unless made private
    try:
        publish(build, serving, run_id="first")
        assert stat.S_IMODE(serving.stat().st_mode) == 0o600, "readable by its owner only"
        serving.chmod(0o640)  # the administrator shares it with a group
        publish(build, serving, run_id="second")
        assert stat.S_IMODE(serving.stat().st_mode) == 0o640
        serving.chmod(0o600)
        publish(build, serving, run_id="third")
        assert stat.S_IMODE(serving.stat().st_mode) == 0o600
    finally:
        os.umask(previous)
    assert read_publication(serving)["run_id"] == "third"


def test_a_second_run_is_refused_while_one_holds_the_warehouse(tmp_path: Path, landing: Path) -> None:
    site = Site(tmp_path, landing)
    site.db.parent.mkdir(parents=True)
    with exclusive_warehouse_lock(site.db, "another run"):
        result = run_job(site)
    assert not result.success
    assert f"held by pid {os.getpid()} (another run" in run_messages(result)
    assert not site.db.exists(), "the refused run did not touch the build file"


def test_a_run_killed_mid_load_or_mid_build_is_followed_by_a_run_that_publishes_the_same_marts(
    clean, tmp_path: Path, dagster_home: Path
) -> None:
    reference, _ = clean
    # Same landing and the reference's key (its first run made one): same files, same marts.
    site = Site(tmp_path / "site", reference.landing, (reference.db.parent / "pii.key").read_text().strip())
    site.db.parent.mkdir(parents=True)
    previous = tmp_path / "previous.duckdb"
    duckdb.connect(str(previous)).close()
    publish(previous, site.serving, run_id="previous-publication")
    before = digest(site.serving)
    killer = tmp_path / "killer.py"
    killer.write_text(KILLER)

    # 1. SIGKILL inside the third file's load transaction (its own, or its batch's: an export's new files are loaded
    # together, one ledger row per file written just before the batch's commit).
    proc = start([sys.executable, str(killer), "load", "-"], site.env(), site.root, tmp_path / "load")
    assert proc.wait(timeout=300) == -signal.SIGKILL, "".join(outputs(tmp_path / "load"))[-3000:]
    with duckdb.connect(str(site.db), read_only=True) as con:
        assert con.execute("select count(*) from raw._load_ledger").fetchone()[0] < 3
    assert digest(site.serving) == before

    # 2. Mid-build, a second run is refused, naming the holder. Then SIGKILL of the run only (`kill -9 <pid>`, not
    # its process group): its dbt, still writing the build file, must die with it.
    marker = tmp_path / "mid_build"
    proc = start([sys.executable, str(killer), "build", str(marker)], site.env(), site.root, tmp_path / "build")
    dbt, recovery = None, None
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "".join(outputs(tmp_path / "build"))[-3000:]
        concurrent = run_job(site)
        assert not concurrent.success
        assert f"held by pid {proc.pid}" in run_messages(concurrent)
        dbt = dbt_writing(proc.pid, site.db)
        assert dbt is not None, "the killed run had no dbt writing the build file: the kill proves nothing"

        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert digest(site.serving) == before
        assert lock_path_for(site.db).exists()
        # 3. The next run (the CLI, on a persistent Dagster instance), started at once: refused with the one-line
        # "held by" message while the dead run's dbt lives, never failing on DuckDB's own file lock; then it
        # completes and publishes the marts of the clean run.
        recovery = start([CLI, "run"], site.env(), site.root, tmp_path / "recover")
        gone_by = time.monotonic() + 10
        while alive(dbt) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert not alive(dbt), "the killed run's dbt is still writing the build file"
        code = recovery.wait(timeout=900)
        out, err = outputs(tmp_path / "recover")
        assert "Could not set lock" not in out + err and "Conflicting lock" not in out + err, out + err
        if code == 3:  # refused: the dead run's dbt still held the build file when it started
            (line,) = err.splitlines()
            assert "is held by" in line
            recovery = start([CLI, "run"], site.env(), site.root, tmp_path / "recover_again")
            code = recovery.wait(timeout=900)
            out, err = outputs(tmp_path / "recover_again")
        assert code == 0, (out + err)[-5000:]
        assert out.splitlines()[-1].startswith("run succeeded")
    finally:
        for running in (proc, recovery):
            if running is not None and running.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(running.pid, signal.SIGKILL)
                running.wait(timeout=60)
        if dbt is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(dbt, signal.SIGKILL)  # old code: the orphan would outlive the test
    assert read_publication(site.serving)["run_id"] != "previous-publication"
    assert marts_snapshot(site.serving) == marts_snapshot(reference.serving)


# ----------------------------------------------------------------------------------- sensor, schedule


def _tick(landing: Path, db: Path) -> dg.SensorResult:
    with environment({"CONTACT_WAREHOUSE_LANDING": str(landing), "CONTACT_WAREHOUSE_DB": str(db)}):
        return landing_sensor(dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral()))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_sensor_asks_for_one_run_per_file_when_no_warehouse_exists(landing: Path, tmp_path: Path) -> None:
    result = _tick(landing, tmp_path / "missing" / "warehouse.duckdb")
    files = sorted(p for p in landing.rglob("*") if p.is_file())
    assert sorted(r.run_key for r in result.run_requests) == sorted(_sha(p) for p in files)
    assert {r.tags[FILE_TAG] for r in result.run_requests} == {str(p.relative_to(landing)) for p in files}


def test_the_sensor_asks_for_one_run_per_new_file_only(clean, tmp_path: Path) -> None:
    site, _ = clean
    landing = tmp_path / "landing"
    shutil.copytree(site.landing, landing)
    new = landing / "sms" / "sms_2026-10-07.csv"
    new.write_text(SMS.replace("SM1", "SM3").replace("SM2", "SM4"))
    # A re-delivery of a loaded file under another name is the same bytes: not new.
    shutil.copy(landing / "calls" / "calls_2026-10-05.csv", landing / "calls" / "calls_2026-10-05_again.csv")

    result = _tick(landing, site.db)

    assert [r.run_key for r in result.run_requests] == [_sha(new)]
    assert result.run_requests[0].tags[FILE_TAG] == "sms/sms_2026-10-07.csv"


def test_the_sensor_skips_without_crashing_while_the_warehouse_is_held(clean, tmp_path: Path) -> None:
    site, _ = clean
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    shutil.copytree(site.db.parent, db.parent)
    with exclusive_warehouse_lock(db, "nightly run"):
        held = _tick(site.landing, db)
    assert not held.run_requests and "busy" in held.skip_reason.skip_message
    writer = duckdb.connect(str(db))  # a writer outside Dagster (dbt run by hand)
    try:
        written = _tick(site.landing, db)
    finally:
        writer.close()
    assert not written.run_requests and "busy" in written.skip_reason.skip_message


def test_the_nightly_schedule_runs_the_job_at_two_in_the_configured_time_zone(monkeypatch) -> None:
    schedule = defs().resolve_schedule_def("nightly_warehouse")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.job_name == "warehouse_job"
    assert schedule.execution_timezone == schedule_timezone()
    monkeypatch.setenv("CONTACT_WAREHOUSE_SCHEDULE_TZ", "Europe/Paris")
    assert schedule_timezone() == "Europe/Paris"
    monkeypatch.setenv("CONTACT_WAREHOUSE_SCHEDULE_TZ", "Mars/Olympus")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        schedule_timezone()


def test_a_run_that_died_holding_the_warehouse_is_marked_failed_so_the_queue_moves_on(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    run = instance.add_run(dg.DagsterRun(job_name="warehouse_job", status=dg.DagsterRunStatus.STARTED))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    # What a run killed with SIGKILL leaves: a free lock whose file still names it.
    lock_path_for(db).write_text(json.dumps({"pid": int(dead.stdout), "owner": "killed", "run_id": run.run_id}))

    with environment({"CONTACT_WAREHOUSE_DB": str(db)}):
        orphaned_run_sensor(dg.build_sensor_context(instance=instance))
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        with exclusive_warehouse_lock(db, "live run", run_id="live"):  # a live holder is never touched
            assert dead_holder(db) is None
        assert dead_holder(db) is None, "a run that ends cleanly clears its record"
