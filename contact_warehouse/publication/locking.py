"""One writer of the build file at a time, whoever starts the run (daemon, UI, CLI, tests).

A run holds an exclusive ``flock`` on ``<warehouse>.lock`` (beside the build file) from its start to its end; a
second run fails at once with the holder's pid. The kernel drops the lock when the holder dies, even by SIGKILL,
so there is no stale lock to clean up. Readers that must not meet a writer mid-run (the landing sensor) take the
lock shared for the few milliseconds they read; a run that starts then waits for them briefly.

The lock is not inherited by the processes a run starts (``subprocess`` closes it in them), so the run's dbt
must not outlive the run: the holder exports its pid (``CONTACT_WAREHOUSE_RUN_PID``), and dbt's DuckDB plugin
(``duckdb_settings.Plugin``) asks the kernel to SIGKILL dbt when that process dies, then holds
``<warehouse>.lock.children`` shared while it lives. A run that takes the lock waits until no process holds that
file: a killed run's dbt, still dying, never meets the next run's writes (DuckDB would refuse them with a file
lock error).

The holder writes its pid and run id into the lock file and clears them before letting go: a free lock whose file
still names a run means that run died holding it (``dead_holder``), which the orphaned-run sensor acts on.
``contact-warehouse run`` takes the lock before its first step (``for_own_runs``); the job's lock resource, in the
same process, then joins it and only records its run id.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from contact_warehouse.settings import (
    RUN_PID_ENV,
    children_lock_path_for,
    lock_path_for,
)

# How long a starting run waits for shared holders (sensor reads of a few milliseconds) before it gives up.
SHARED_HOLDER_WAIT_SECONDS = 10.0
# How long it waits for the dbt of a run that died (killed with it by the kernel: milliseconds) to be gone.
DEAD_RUN_CHILDREN_WAIT_SECONDS = 30.0

# Lock files this process holds for runs it starts itself (resolved path -> open descriptor): a run of this
# process joins the holder and only records its run id.
_SHARED_WITH_OWN_RUNS: dict[str, int] = {}


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse."""


def _read_holder(fd: int) -> dict | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        holder = json.loads(raw) if raw.strip() else None
    except ValueError:
        return None
    if not isinstance(holder, dict):
        return None
    try:
        os.kill(int(holder["pid"]), 0)  # a holder that died (SIGKILL) left its record: not a holder.
    except (KeyError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        pass
    return holder


def _record(owner: str, run_id: str | None, since: str | None = None) -> bytes:
    record = {"pid": os.getpid(), "owner": owner, "since": since or datetime.now(UTC).isoformat(timespec="seconds")}
    if run_id:
        record["run_id"] = run_id
    return json.dumps(record).encode()


def _wait_for_dead_run_children(database: Path | str, deadline: float) -> None:
    """Return once no dbt process of an earlier run holds the children lock; raise when one still does."""
    path = children_lock_path_for(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)  # our own dbt processes take it shared later
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"The warehouse {database} is still written by a dbt process of a run that ended or died: "
                        f"this run is refused. Run again in a minute (lock file: {path})."
                    ) from None
                time.sleep(0.1)
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive_warehouse_lock(
    database: Path | str, owner: str, run_id: str | None = None, for_own_runs: bool = False
) -> Iterator[Path]:
    """Hold the warehouse for one run, or raise WarehouseBusyError naming the run that holds it.

    ``for_own_runs``: the holder is about to run the job in this process (``contact-warehouse run``); the job's
    lock resource then joins it instead of being refused."""
    path = lock_path_for(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    if key in _SHARED_WITH_OWN_RUNS:  # the CLI around its in-process job: name the run
        fd = _SHARED_WITH_OWN_RUNS[key]
        previous = os.pread(fd, 4096, 0)
        try:
            since = json.loads(previous).get("since")
        except (ValueError, AttributeError):
            since = None
        os.ftruncate(fd, 0)
        os.pwrite(fd, _record(owner, run_id, since), 0)
        yield path
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + SHARED_HOLDER_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(fd)
                if holder is None and time.monotonic() < deadline:
                    time.sleep(0.1)  # only short shared reads hold it: wait for them
                    continue
                who = (
                    f"pid {holder['pid']} ({holder.get('owner', '?')}, since {holder.get('since', '?')})"
                    if holder
                    else "a reader that did not let go"
                )
                raise WarehouseBusyError(
                    f"The warehouse {database} is held by {who}: this run is refused so that two runs never "
                    f"write the build file together. Run again when that run has ended (lock file: {path})."
                ) from None
        try:
            _wait_for_dead_run_children(database, time.monotonic() + DEAD_RUN_CHILDREN_WAIT_SECONDS)
        except BaseException:
            fcntl.flock(fd, fcntl.LOCK_UN)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, _record(owner, run_id), 0)
        if for_own_runs:
            _SHARED_WITH_OWN_RUNS[key] = fd
        previous_run_pid = os.environ.get(RUN_PID_ENV)
        os.environ[RUN_PID_ENV] = str(os.getpid())  # what dbt must not outlive (duckdb_settings.Plugin)
        try:
            yield path
        finally:
            if previous_run_pid is None:
                os.environ.pop(RUN_PID_ENV, None)
            else:
                os.environ[RUN_PID_ENV] = previous_run_pid
            _SHARED_WITH_OWN_RUNS.pop(key, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def shared_warehouse_lock(database: Path | str) -> Iterator[bool]:
    """Yield True while holding the lock shared (no run in progress), False when a run holds it (no wait)."""
    path = lock_path_for(database)
    if not path.parent.is_dir():
        yield True
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def dead_holder(database: Path | str) -> dict | None:
    """The record of a run that died holding the lock (SIGKILL, crash): the lock is free but its record, which a
    run clears before letting go, is still there. None when a run holds the lock or the last one ended cleanly."""
    path = lock_path_for(database)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a live run holds it
        try:
            raw = os.pread(fd, 4096, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    try:
        record = json.loads(raw) if raw.strip() else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
