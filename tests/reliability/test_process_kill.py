"""`kill -9` of `contact-warehouse run` while dbt builds: its dbt dies with it, and a run started at once is either
refused with the one-line "held by" message or succeeds, never failing on DuckDB's own file lock."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))  # the shared landing folder of tests/test_publication.py
from test_publication import write_landing  # noqa: E402

CLI = str(Path(sys.executable).parent / "contact-warehouse")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def _alive(pid: int) -> bool:
    found = _stat(pid)
    return found is not None and found[1] not in ("Z", "X")


def _dbt_writing(parent: int, db: Path) -> int | None:
    """The pid of the parent's dbt child once it has the build file open."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        found = _stat(int(entry.name))
        if found is None or found[0] != parent:
            continue
        with contextlib.suppress(OSError):
            if b"dbt" not in (entry / "cmdline").read_bytes():
                continue
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == str(db):
                        return int(entry.name)
    return None


def test_a_run_killed_during_dbt_leaves_no_writer_and_the_next_run_is_refused_or_succeeds(tmp_path: Path) -> None:
    landing = write_landing(tmp_path / "landing")
    db = tmp_path / "data" / "warehouse.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_WAREHOUSE_") and k != "DAGSTER_HOME"}
    env.update(CONTACT_WAREHOUSE_DB=str(db), CONTACT_WAREHOUSE_LANDING=str(landing))
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen([CLI, "run"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    second = None
    try:
        deadline = time.monotonic() + 600
        dbt = None
        while dbt is None and first.poll() is None and time.monotonic() < deadline:
            dbt = _dbt_writing(first.pid, db)
            time.sleep(0.2)
        assert dbt is not None, (tmp_path / "first.log").read_text()[-3000:]
        time.sleep(2)  # well inside the build

        os.kill(first.pid, signal.SIGKILL)  # the run only, as `kill -9 <pid>` does
        first.wait(timeout=30)
        second = subprocess.Popen(
            [CLI, "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        gone_by = time.monotonic() + 10
        while _alive(dbt) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert not _alive(dbt), "the killed run's dbt is still writing the build file"
        out, err = second.communicate(timeout=900)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
        with contextlib.suppress(NameError, TypeError, ProcessLookupError):
            os.kill(dbt, signal.SIGKILL)  # old code: the orphan would outlive the test
    assert "Could not set lock" not in out + err and "Conflicting lock" not in out + err, out + err
    if second.returncode == 3:
        (line,) = err.splitlines()
        assert "is held by" in line
    else:
        assert second.returncode == 0, out + err
        assert out.splitlines()[-1].startswith("run succeeded")
