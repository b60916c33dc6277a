"""One writer of the build file at a time, whoever starts the run (daemon, UI, CLI, tests).

A run holds an exclusive ``flock`` on ``<warehouse>.lock`` (beside the build file) from its start to its end; a
second run fails at once with the holder's pid. The kernel drops the lock when the holder dies, even by SIGKILL,
so there is no stale lock to clean up. Readers that must not meet a writer mid-run (the landing sensor) take the
lock shared for the few milliseconds they read; a run that starts then waits for them briefly.

The holder writes its pid and run id into the lock file and clears them before letting go: a free lock whose file
still names a run means that run died holding it (``dead_holder``), which the orphaned-run sensor acts on.
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

import dagster as dg

from orchestration.settings import warehouse_db

# How long a starting run waits for shared holders (sensor reads of a few milliseconds) before it gives up.
SHARED_HOLDER_WAIT_SECONDS = 10.0


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse."""


def lock_path_for(database: Path | str) -> Path:
    database = Path(database)
    return database.with_name(database.name + ".lock")


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


@contextlib.contextmanager
def exclusive_warehouse_lock(database: Path | str, owner: str, run_id: str | None = None) -> Iterator[Path]:
    """Hold the warehouse for one run, or raise WarehouseBusyError naming the run that holds it."""
    path = lock_path_for(database)
    path.parent.mkdir(parents=True, exist_ok=True)
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
        record = {"pid": os.getpid(), "owner": owner, "since": datetime.now(UTC).isoformat(timespec="seconds")}
        if run_id:
            record["run_id"] = run_id
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield path
        finally:
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


class WarehouseLockResource(dg.ConfigurableResource):
    """Holds the run lock of the build file for as long as the run's resources live: the whole run under the
    in-process executor. ``database`` defaults to CONTACT_WAREHOUSE_DB, read when the run starts."""

    database: str = ""

    def database_path(self) -> Path:
        return Path(self.database) if self.database else warehouse_db()

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseLockResource]:
        owner = f"dagster run {context.run_id}" if context.run_id else "dagster"
        with exclusive_warehouse_lock(self.database_path(), owner, run_id=context.run_id) as path:
            if context.log:
                context.log.info(f"Holding the warehouse lock {path} for this run (pid {os.getpid()}).")
            yield self
