"""`contact-warehouse run` as a user runs it (a subprocess, a temporary warehouse): on the bundled sample as the
README gives it, one line per step and a summary ending with the paths in under 60 lines; on a small landing folder,
the full log in a file it names, private files, a random PII key outside the demo, a failed run naming what failed
first; one-line errors with their own exit codes before any work. The successful runs are the session's
(conftest.py: `sample_run`, `small_run`)."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import stat
import time
from pathlib import Path

import duckdb
import pytest
from conftest import CliRun, cli, user_env
from small_landing import write_landing

from contact_warehouse.enrichment.functions import DEFAULT_PII_KEY
from contact_warehouse.publication.locking import exclusive_warehouse_lock
from contact_warehouse.settings import DBT_PROJECT_DIR, SETTINGS
from orchestration.cli import EXIT_BUSY, EXIT_FAILED, EXIT_USAGE

EXPORTS = (
    "calls",
    "chat_conversations",
    "customers",
    "faq_articles",
    "faq_views",
    "form_submissions",
    "ivr_events",
    "sms",
    "surveys",
)


def test_the_readme_run_on_the_sample_prints_under_60_lines_ending_with_the_paths(sample_run: CliRun) -> None:
    """`make run` as the README gives it, on the bundled sample (seeds/): one line per step, each export's new files,
    dbt's and the expectations' counts, the publication, then the summary ending with the paths and the outcome."""
    result = sample_run.result
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(sample_run.lines) < 60, result.stdout
    assert result.stderr == ""
    assert "DEBUG" not in result.stdout and "dagster" not in result.stdout.lower()
    exports = sorted(path.name for path in sample_run.landing.iterdir() if path.is_dir())
    assert len(exports) >= 10  # every export of the sample, tickets included
    for export in exports:
        files = sum(1 for path in (sample_run.landing / export).iterdir() if path.is_file())
        (line,) = [line for line in sample_run.lines if line.split()[:2] == ["load", export]]
        assert f"{files} new file{'' if files == 1 else 's'}" in line, line
        assert "rows read" in line and "loaded" in line and "rejected" in line, line
    dbt = sample_run.summary("dbt build")
    assert "models" in dbt and "passed, 0 failed" in dbt
    assert "suites passed, 0 failed" in sample_run.summary("expectations")
    db = sample_run.db
    assert str(db.parent / "serving.duckdb") in sample_run.summary("publish")
    # The summary ends with the files the run made, then the outcome.
    log = Path(sample_run.summary("log:"))
    assert sample_run.lines[-5:] == [
        f"{'warehouse:':<24}{db}",
        f"{'serving file:':<24}{db.parent / 'serving.duckdb'}",
        f"{'report:':<24}{db.parent / 'report' / 'index.html'}",
        f"{'log:':<24}{log}",
        sample_run.lines[-1],
    ]
    assert sample_run.lines[-1].startswith("run succeeded")
    assert log.parent == db.parent / "logs" and log.name.startswith("run-")
    assert "STEP_SUCCESS" in log.read_text()
    for path in (db, db.parent / "serving.duckdb", db.parent / "report" / "index.html"):
        assert path.is_file() and path.stat().st_size > 0, path


def test_a_run_on_a_small_landing_prints_a_line_per_export_with_its_one_file(small_run: CliRun) -> None:
    result = small_run.result
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(small_run.lines) < 60, result.stdout
    assert result.stderr == ""
    for export in EXPORTS:
        (line,) = [line for line in small_run.lines if line.split()[:2] == ["load", export]]
        assert "1 new file" in line and "rows read" in line and "loaded" in line and "rejected" in line
    assert small_run.lines[-1].startswith("run succeeded")


def test_dagster_and_dbt_output_go_to_the_log_file_only(small_run: CliRun) -> None:
    text = Path(small_run.summary("log:")).read_text()
    assert "DEBUG" in text and "STEP_SUCCESS" in text and "LogModelResult" not in small_run.result.stdout
    assert "DEBUG" not in small_run.result.stdout and "dagster" not in small_run.result.stdout.lower()
    # The vars reached dbt build.
    assert '--vars {"session_gap_minutes": 30}' in text


def test_the_ledger_summary_shows_the_ledger_row_columns(small_run: CliRun) -> None:
    with duckdb.connect(str(small_run.db), read_only=True) as con:
        columns = {
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_name = '_load_ledger'"
            ).fetchall()
        }
    expected = [
        c for c in ("rows_read", "rows_loaded", "rows_rejected", "rows_filtered", "rows_duplicate") if c in columns
    ]
    (header,) = [line for line in small_run.lines if line.startswith("ledger")]
    assert header.split()[-len(expected) :] == expected
    (calls,) = [line for line in small_run.lines if line.split()[:1] == ["calls"]]
    assert calls.split()[1:6] == ["1", "0", "4", "4", "0"]  # files, refused, read, loaded, rejected


def test_the_run_files_are_readable_by_their_owner_only(small_run: CliRun) -> None:
    data = small_run.db.parent
    files = [
        small_run.db,
        data / "serving.duckdb",
        data / "report" / "index.html",
        data / "pii.key",
        Path(small_run.summary("log:")),
    ]
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
    assert modes == {path.name: 0o600 for path in files}


def test_outside_the_demo_a_random_key_is_created_and_never_shown(small_run: CliRun) -> None:
    key_file = small_run.db.parent / "pii.key"
    key = key_file.read_text().strip()
    assert len(key) == 64 and key != DEFAULT_PII_KEY
    assert any(str(key_file) in line and "--full-refresh" not in line for line in small_run.lines)
    # The identifiers were hashed with it, not with the development key.
    with duckdb.connect(str(small_run.db), read_only=True) as con:
        nodes = {
            n for (n,) in con.execute("select identifier_node from intermediate.int_identifier_occurrences").fetchall()
        }

    def node(secret: str) -> str:
        return hmac.new(secret.encode(), b"email:bob@example.org", hashlib.sha256).hexdigest()

    assert node(key) in nodes and node(DEFAULT_PII_KEY) not in nodes
    # Never in the terminal, the log, compiled SQL or dbt's own log of this run.
    assert key not in small_run.result.stdout + small_run.result.stderr
    assert key not in Path(small_run.summary("log:")).read_text()
    written = [
        path
        for path in (DBT_PROJECT_DIR / "target").rglob("*")
        if path.is_file() and path.stat().st_mtime >= small_run.started
    ]
    assert any(path.suffix == ".sql" for path in written)
    for path in written:
        assert key not in path.read_text(errors="replace"), path


def test_a_failed_run_says_first_which_step_and_test_failed(small_run: CliRun, tmp_path: Path) -> None:
    # The shared run's warehouse, with a duplicate customer: dbt's unique test on customer_ref fails.
    data = tmp_path / "data"
    data.mkdir()
    for name in ("warehouse.duckdb", "pii.key", "serving.duckdb"):
        shutil.copy2(small_run.db.parent / name, data / name)
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("insert into staging.stg_crm__customers select * from staging.stg_crm__customers limit 1")
    serving_before = (data / "serving.duckdb").read_bytes()

    result = cli(
        "run",
        "--landing",
        str(small_run.landing),
        env=user_env(CONTACT_WAREHOUSE_DB=str(data / "warehouse.duckdb")),
        cwd=tmp_path,
    )

    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) < 60, result.stdout
    (dbt,) = [line for line in lines if line.startswith("dbt build")]
    assert "FAILED: test unique_stg_crm__customers_customer_ref" in dbt, result.stdout
    first = next(line for line in lines if line.startswith("run FAILED"))
    assert first.startswith("run FAILED at dbt build:") and "unique_stg_crm__customers_customer_ref" in first
    assert "Got 1 result" in first, first
    assert lines[-1].startswith("failed:") and "unique_stg_crm__customers_customer_ref" in lines[-1]
    assert "not published by this run" in next(line for line in lines if line.startswith("serving file:"))
    assert (data / "serving.duckdb").read_bytes() == serving_before


# ------------------------------------------------------------------------------------ refused before work


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing landing", "landing folder {landing} does not exist"),
        ("empty landing", "landing folder {landing} is empty"),
        ("unknown setting", "unknown setting CONTACT_WAREHOUSE_LANDNG"),
        ("unknown var", "unknown dbt var sesion_gap_minutes (declared in dbt_project/dbt_project.yml: "),
    ],
)
def test_bad_input_is_refused_with_one_line_before_any_work(tmp_path: Path, case: str, expected: str) -> None:
    landing = tmp_path / "landing"
    db = tmp_path / "data" / "warehouse.duckdb"
    env = user_env(CONTACT_WAREHOUSE_DB=str(db))
    args = ["run", "--landing", str(landing)]
    if case != "missing landing":
        write_landing(landing)
    if case == "empty landing":
        shutil.rmtree(landing)
        for export in EXPORTS:
            (landing / export).mkdir(parents=True)
    elif case == "unknown setting":
        env["CONTACT_WAREHOUSE_LANDNG"] = "/somewhere"
    elif case == "unknown var":
        args += ["--vars", '{"sesion_gap_minutes": 20}']

    started = time.monotonic()
    result = cli(*args, env=env, cwd=tmp_path, timeout=120)

    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and expected.format(landing=landing) in line
    if case == "unknown var":
        assert "session_gap_minutes" in line and "reporting_timezone" in line  # the known vars are listed
    if case == "unknown setting":
        assert all(name in line for name in SETTINGS)
    assert not db.parent.exists(), "nothing was created"
    assert time.monotonic() - started < 60


def test_a_run_is_refused_at_once_while_another_holds_the_warehouse(tmp_path: Path) -> None:
    landing = write_landing(tmp_path / "landing")
    db = tmp_path / "data" / "warehouse.duckdb"
    with exclusive_warehouse_lock(db, "nightly run"):
        started = time.monotonic()
        result = cli("run", "--landing", str(landing), env=user_env(CONTACT_WAREHOUSE_DB=str(db)), cwd=tmp_path)
        elapsed = time.monotonic() - started
    assert result.returncode == EXIT_BUSY, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert f"is held by pid {os.getpid()} (nightly run, since 20" in line
    assert elapsed < 20, f"refused after {elapsed:.0f} s"
    assert not db.exists()


# ------------------------------------------------------------------------------------------ pieces


def test_every_setting_the_code_reads_is_known_and_a_misspelt_one_is_not() -> None:
    from contact_warehouse.settings import unknown_settings

    assert unknown_settings({name: "x" for name in SETTINGS}) == []
    assert unknown_settings({"CONTACT_WAREHOUSE_MEMORY_LIMIT": "1GB", "CONTACT_WAREHOUSE_DBB": "x", "HOME": "/"}) == [
        "CONTACT_WAREHOUSE_DBB"
    ]


@pytest.fixture
def key_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CONTACT_WAREHOUSE_PII_KEY", "CONTACT_WAREHOUSE_PII_KEY_FILE"):
        monkeypatch.setenv(name, "")  # unset, and restored after the test
    db = tmp_path / "data" / "warehouse.duckdb"
    monkeypatch.setenv("CONTACT_WAREHOUSE_DB", str(db))
    monkeypatch.setenv("CONTACT_WAREHOUSE_LANDING", str(tmp_path / "landing"))
    return db


def test_a_key_file_is_created_owner_only_on_the_first_run_outside_the_demo(key_site: Path) -> None:
    from contact_warehouse.enrichment.functions import pii_key
    from contact_warehouse.settings import ensure_pii_key

    note = ensure_pii_key()
    key_file = key_site.parent / "pii.key"
    assert note is not None and str(key_file) in note and "--full-refresh" not in note
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert pii_key() == key.encode() and key not in note
    # The next run keeps it.
    assert ensure_pii_key() is None and key_file.read_text().strip() == key


def test_a_key_created_for_an_existing_warehouse_asks_for_a_full_refresh(key_site: Path) -> None:
    from contact_warehouse.settings import ensure_pii_key

    key_site.parent.mkdir(parents=True)
    duckdb.connect(str(key_site)).close()
    assert "--full-refresh" in ensure_pii_key()


def test_a_key_from_the_environment_is_used_and_no_file_is_written(
    key_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contact_warehouse.enrichment.functions import pii_key
    from contact_warehouse.settings import ensure_pii_key

    monkeypatch.setenv("CONTACT_WAREHOUSE_PII_KEY", "from-the-vault")
    assert ensure_pii_key() is None
    assert not (key_site.parent / "pii.key").exists()
    assert pii_key() == b"from-the-vault"


def test_the_bundled_demo_keeps_the_development_key(key_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contact_warehouse.enrichment.functions import pii_key
    from contact_warehouse.settings import DEFAULT_LANDING_DIR, ensure_pii_key

    monkeypatch.setenv("CONTACT_WAREHOUSE_LANDING", str(DEFAULT_LANDING_DIR))
    assert ensure_pii_key() is None
    assert not (key_site.parent / "pii.key").exists()
    assert pii_key() == DEFAULT_PII_KEY.encode()


def test_dbt_by_hand_on_a_real_warehouse_finds_its_key_file(key_site: Path) -> None:
    from contact_warehouse.enrichment.functions import pii_key

    key_site.parent.mkdir(parents=True)
    (key_site.parent / "pii.key").write_text("beside-the-warehouse\n")
    assert pii_key() == b"beside-the-warehouse"


def test_the_cause_of_a_failure_is_the_root_cause_not_its_consequence(tmp_path: Path) -> None:
    import json

    from dagster._utils.error import SerializableErrorInfo

    from contact_warehouse.operations.causes import cause_of, dbt_failure_cause

    disk = SerializableErrorInfo("duckdb.IOException: IO Error: could not write: No space left on device\n", [], "")
    rollback = SerializableErrorInfo(
        "duckdb.TransactionException: cannot rollback - no transaction is active\n", [], "", context=disk
    )
    wrapper = SerializableErrorInfo("Error occurred while executing op load_calls:\n", [], "", cause=rollback)
    assert "No space left on device" in cause_of(wrapper)
    assert cause_of(SerializableErrorInfo("wrapper", [], "", cause=SerializableErrorInfo("KeyError: 'x'", [], ""))) == (
        "KeyError: 'x'"
    )

    results = [
        {"unique_id": "model.contact_warehouse.stg_a", "status": "success", "message": "OK"},
        {"unique_id": "test.contact_warehouse.unique_stg_a_id.1a", "status": "fail", "message": "Got 2 results"},
        {"unique_id": "model.contact_warehouse.int_b", "status": "error", "message": "cannot rollback"},
        {
            "unique_id": "model.contact_warehouse.int_c",
            "status": "error",
            "message": "IO Error: No space left on device",
        },
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    assert dbt_failure_cause(tmp_path) == "model int_c: IO Error: No space left on device (and 2 more failed)"
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results[:2]}))
    assert dbt_failure_cause(tmp_path) == "test unique_stg_a_id: Got 2 results"


def test_the_progress_lines_know_the_job_s_step_names() -> None:
    from contact_warehouse.operations import run_lines as progress
    from orchestration.assets.dbt import warehouse_dbt_assets
    from orchestration.checks import CHECK_NAME

    assert warehouse_dbt_assets().op.name == progress.DBT_STEP and progress.CHECK_NAME == CHECK_NAME


def test_a_file_outside_the_export_folders_is_named_in_the_ledger_not_a_blank_row(tmp_path: Path) -> None:
    """The bundled sample has planted_truths.json beside its export folders: the loader ledgers it as ignored (no
    export); the summary named it in a row of zeros without a name."""
    import io

    from orchestration.progress import RunProgress

    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw._load_ledger (export varchar, file_path varchar, status varchar, rows_read bigint, "
            "rows_loaded bigint, rows_rejected bigint)"
        )
        con.execute(
            "insert into raw._load_ledger values ('calls', '/l/calls/a.csv', 'loaded', 4, 4, 0), "
            "('', '/l/planted_truths.json', 'ignored', 0, 0, 0)"
        )
    out = io.StringIO()
    RunProgress(out, "run-1", tmp_path / "serving.duckdb", tmp_path / "report")._ledger(db)
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["calls", "not"]
    assert lines[-1].split()[2:] == ["1", "file(s)", "outside", "<landing>/<export>/:", "planted_truths.json"]
