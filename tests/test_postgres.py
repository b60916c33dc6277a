"""Dagster's storage in PostgreSQL (deploy/dagster.postgres.yaml): a throw-away cluster, started by the test run on
a free localhost port, holds the runs and event log of the project's job.

The cluster: tests/postgres_setup.sh installs PostgreSQL's server with apt-get when it is missing (as a clean CI
machine needs), then ``initdb`` in a temporary folder, ``pg_ctl start`` listening on 127.0.0.1 only, password
authentication (the yaml's credentials come from the environment), stopped and removed at the end of the session.
PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user (else ``nobody``) via runuser.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contact_warehouse.settings import ROOT

TESTS = Path(__file__).parent
NO_APT = 3  # postgres_setup.sh: apt-get is not there
POSTGRES_YAML = ROOT / "deploy" / "dagster.postgres.yaml"
FIXTURE_EXPORTS = TESTS / "fixtures" / "exports"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    database: str

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.postgres.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.database,
        }

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        con = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.database
        )
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            con.close()


def _bindir() -> Path:
    result = subprocess.run(["bash", str(TESTS / "postgres_setup.sh")], capture_output=True, text=True)
    if result.returncode == NO_APT:
        pytest.skip(f"PostgreSQL is not installed and cannot be: {result.stderr.strip()}")
    if result.returncode != 0:
        pytest.fail(f"tests/postgres_setup.sh failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr}")
    found = [Path(line) for line in result.stdout.splitlines() if (Path(line) / "initdb").exists()]
    found += [Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]
    if not found:
        pytest.fail(f"tests/postgres_setup.sh succeeded but no initdb was found: {result.stdout}")
    return found[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> str | None:
    """The unprivileged user the server runs as when the tests run as root; None: the current user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bindir = _bindir()
    user = _server_user()
    # Not under pytest's tmp folder: that one is readable by its owner only, and the server runs as another user.
    root = Path(tempfile.mkdtemp(prefix="cw-postgres-"))
    data, password = root / "data", secrets.token_hex(16)
    (root / "pwfile").write_text(password + "\n")
    if user:
        entry = pwd.getpwnam(user)
        for path in (root, root / "pwfile"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    as_user = ["runuser", "-u", user, "--"] if user else []

    def run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([*as_user, *args], capture_output=True, text=True, cwd=root)
        if result.returncode != 0:
            log = (root / "server.log").read_text(errors="replace")[-3000:] if (root / "server.log").exists() else ""
            pytest.fail(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n{log}")
        return result

    port = _free_port()
    run(
        str(bindir / "initdb"), "-D", str(data), "-U", "dagster", f"--pwfile={root / 'pwfile'}",
        "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
    )  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start")
    try:
        server = Postgres("127.0.0.1", port, "dagster", password, "postgres")
        server.query("select 1")
        import psycopg2

        con = psycopg2.connect(host=server.host, port=port, user="dagster", password=password, dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("create database dagster_test")
        con.close()
        yield Postgres("127.0.0.1", port, "dagster", password, "dagster_test")
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], cwd=root)
        shutil.rmtree(root, ignore_errors=True)


def test_the_jobs_runs_and_event_log_are_stored_in_postgres(
    postgres: Postgres, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's job (its calls loader: seconds, not the whole build) runs on an instance made from
    deploy/dagster.postgres.yaml; its run, status and events are rows of PostgreSQL, and a second instance made
    from the same file (the webserver, the daemon) reads them back."""
    import dagster as dg
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    home = tmp_path / "dagster_home"
    (home / "storage").mkdir(parents=True)
    shutil.copy(POSTGRES_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_STORAGE_DIR", str(home / "storage"))
    monkeypatch.setenv("CONTACT_WAREHOUSE_LANDING", str(FIXTURE_EXPORTS))
    for name, value in postgres.env().items():
        monkeypatch.setenv(name, value)
    from orchestration.assets.raw import raw_asset_key
    from orchestration.definitions import defs as build_defs

    defs = build_defs()

    job = defs.resolve_job_def("warehouse_job").get_subset(
        asset_selection={raw_asset_key("calls")}, asset_check_selection=set()
    )
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        result = job.execute_in_process(instance=instance)
        assert result.success
    run_id = result.run_id

    assert postgres.query("select pipeline_name, status from runs where run_id = %s", (run_id,)) == [
        ("warehouse_job", "SUCCESS")
    ]
    events = {
        row[0] for row in postgres.query("select dagster_event_type from event_logs where run_id = %s", (run_id,))
    }
    kinds = ("RUN_START", "STEP_START", "ASSET_MATERIALIZATION", "STEP_SUCCESS", "RUN_SUCCESS")
    assert {dg.DagsterEventType[kind].value for kind in kinds} <= events  # RUN_* are stored as PIPELINE_*
    materialized = postgres.query(
        "select count(*) from event_logs where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION' "
        "and asset_key = %s",
        (run_id, raw_asset_key("calls").to_string()),
    )
    assert materialized == [(1,)]

    with dg.DagsterInstance.get() as reader:  # another process's view: nothing of the run lives in memory
        run = reader.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        logs = reader.all_logs(run_id)
        assert any(entry.user_message.startswith("Holding the warehouse lock") for entry in logs)
        latest = reader.get_latest_materialization_event(raw_asset_key("calls"))
        assert latest is not None and latest.run_id == run_id
