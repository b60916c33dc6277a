"""Runs as separate processes, for the kill tests: a run to kill mid-load or mid-build, and what /proc says of it
(is a pid alive, which child of a run has the build file open)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def alive(pid: int) -> bool:
    found = _stat(pid)
    return found is not None and found[1] not in ("Z", "X")


def dbt_writing(parent: int, db: Path) -> int | None:
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


# A run that kills itself (and its process group) inside the third file's load transaction, or hangs mid-build
# after writing the marker file, holding the warehouse, until the test kills it.
KILLER = """
import os, signal, sys, time
from pathlib import Path
mode, marker = sys.argv[1], Path(sys.argv[2])

def kill_everything():
    os.killpg(os.getpgid(0), signal.SIGKILL)  # this process and its dbt child, as an OOM killer or reboot would

if mode == "load":
    from contact_warehouse.loading import loader
    original, calls = loader._record_ledger, []
    def record_then_die(*args):
        original(*args)
        calls.append(1)
        if len(calls) == 3:
            kill_everything()  # inside the third file's transaction, before its commit
    loader._record_ledger = record_then_die
else:
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
    original = DbtCliInvocation.stream_raw_events
    def stream_then_hang(self):
        models = 0
        for event in original(self):
            yield event
            models += event.raw_event["info"]["name"] == "LogModelResult"
            if models == 5:
                marker.write_text(str(os.getpid()))
                time.sleep(3600)  # mid-build, holding the warehouse, until the test kills us
    DbtCliInvocation.stream_raw_events = stream_then_hang

# What `contact-warehouse run` does after its `dbt parse`: the job in-process on the DAGSTER_HOME instance.
import dagster as dg
from orchestration.definitions import defs
defs().resolve_job_def("warehouse_job").execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
"""


def start(args: Sequence[str], settings: dict[str, str], cwd: Path, logs: Path) -> subprocess.Popen:
    """Start a run in a session of its own, its stdout and stderr apart in ``logs``.out and .err (a refusal is one
    line on stderr)."""
    env = {**os.environ, **settings}
    with logs.with_suffix(".out").open("w") as out, logs.with_suffix(".err").open("w") as err:
        return subprocess.Popen([*args], env=env, stdout=out, stderr=err, start_new_session=True, cwd=cwd)


def outputs(logs: Path) -> tuple[str, str]:
    """The stdout and stderr of a run started by ``start``."""
    return logs.with_suffix(".out").read_text(), logs.with_suffix(".err").read_text()
