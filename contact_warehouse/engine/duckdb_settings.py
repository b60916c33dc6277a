"""DuckDB settings of the connections that write the warehouse: the loader's and dbt's.

Read from the environment when a connection opens, with the defaults the benchmark chose (DECISIONS.md,
"Performance"):

- ``CONTACT_WAREHOUSE_THREADS``: DuckDB worker threads; default the machine's cores.
- ``CONTACT_WAREHOUSE_LOAD_THREADS``: DuckDB worker threads of the loader's connection; default 1. Its statements
  run over one file's rows at a time (tens of MB at most): a second thread added coordination, not speed
  (DECISIONS.md, "The loader's DuckDB runs on one thread"); the lake's Parquet files are written on
  ``CONTACT_WAREHOUSE_THREADS``.
- ``CONTACT_WAREHOUSE_MEMORY_LIMIT``: DuckDB's buffer limit; default ``2GB``. DuckDB spills what does not fit.
- ``CONTACT_WAREHOUSE_TEMP_DIR``: where it spills; default ``<warehouse file>.tmp`` beside the warehouse, on
  the same disk as the data it spills.
- ``preserve_insertion_order``: false for dbt (no model relies on the physical order of rows, and keeping it
  costs memory in large sorts and scans); the loader keeps DuckDB's default (true) because it numbers the rows
  of a CSV by their scan order (``row_number() over ()``) to find their physical line.
- ``max_vacuum_tasks``: 0 on the connections that write the warehouse (the loader's and dbt's). DuckDB's checkpoint
  would otherwise merge, every night, the row groups of every table from which the night deleted rows (the rows of
  the customers rebuilt by the models incremental by customer), rewriting a share of the history each night: more
  CPU than those models' queries at 120 days. The deleted rows stay stored instead, and the warehouse's storage
  maintenance (``contact_warehouse/maintenance/storage.py``, the nightly job's step after the publication, and
  ``contact-warehouse vacuum``) rewrites a table once its deleted rows reach a share of its stored rows
  (DECISIONS.md, "The nightly run without DuckDB's vacuum"). Any checkpoint with DuckDB's default would vacuum
  every table, whichever connection ran it: the publication's connection to its own serving file keeps the default.

dbt's connection gets these settings from the ``Plugin`` that ``dbt_project/profiles.yml`` lists, in the
configuration DuckDB opens the database with; the profile's
``settings:`` (TimeZone, preserve_insertion_order) are set again on every cursor dbt opens. The temp directory
cannot be among those: once DuckDB has spilled, it refuses ``SET temp_directory`` on a new cursor, even to the same
folder ("Cannot switch temporary directory after the current one has been used"), which failed every dbt test
after the first model that spilled (seen at 10 million events).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from contact_warehouse.engine.sql import sql_literal

THREADS_ENV = "CONTACT_WAREHOUSE_THREADS"
LOAD_THREADS_ENV = "CONTACT_WAREHOUSE_LOAD_THREADS"
MEMORY_LIMIT_ENV = "CONTACT_WAREHOUSE_MEMORY_LIMIT"
TEMP_DIR_ENV = "CONTACT_WAREHOUSE_TEMP_DIR"
DEFAULT_MEMORY_LIMIT = "2GB"
# DuckDB's own vacuum is off on the warehouse's writing connections (module docstring).
NO_VACUUM = {"max_vacuum_tasks": 0}


def default_threads() -> int:
    """The cores this process may run on (the container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def threads() -> int:
    value = os.environ.get(THREADS_ENV, "").strip()
    return int(value) if value else default_threads()


def loading_threads() -> int:
    value = os.environ.get(LOAD_THREADS_ENV, "").strip()
    return int(value) if value else 1


def memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT


# How low ``release_cache`` sets DuckDB's limit for a moment: below it DuckDB keeps only what is pinned.
RELEASE_LIMIT = "64MB"


# DuckDB's limit while ``int_prediction_rows`` runs and its rows are written (the model lowers it with
# ``release_cache``; its post-hook, macros/restore_memory_limit.sql, sets ``memory_limit()`` again): the model's
# frames take the rest of dbt's memory. At 10 million events its full build peaked at 3.02 GiB with DuckDB's 2GB,
# 2.57 GiB with 1GB, at the same CPU (DECISIONS.md "The night's peak of memory at 10 million events").
PYTHON_MODEL_MEMORY_LIMIT_ENV = "CONTACT_WAREHOUSE_PYTHON_MODEL_MEMORY_LIMIT"
DEFAULT_PYTHON_MODEL_MEMORY_LIMIT = "1GB"


def python_model_memory_limit() -> str:
    return os.environ.get(PYTHON_MODEL_MEMORY_LIMIT_ENV, "").strip() or DEFAULT_PYTHON_MODEL_MEMORY_LIMIT


def release_cache(con: Any, limit: str | None = None) -> None:
    """Free the blocks DuckDB keeps cached on ``con``'s database, then set its limit back (``memory_limit()``), or to
    ``limit`` (``python_model_memory_limit()``: a model whose post-hook restores the warehouse's limit).

    DuckDB keeps the blocks earlier queries read, up to its limit (2GB), and frees them only when it needs the
    room. A dbt Python model calls this first: dbt's process then holds the model's pandas frames next to what the
    model itself asks of DuckDB, not next to a buffer pool filled by the models before it (DECISIONS.md "DuckDB's
    cache released before each dbt Python model"). Lowering the limit evicts at once; where DuckDB cannot go that
    low (pinned blocks), it refuses and the cache stays, as before."""
    import duckdb

    try:
        con.execute(f"set memory_limit = {sql_literal(RELEASE_LIMIT)}")
    except duckdb.Error:
        pass
    finally:
        con.execute(f"set memory_limit = {sql_literal(limit or memory_limit())}")


def temp_directory(database: Path | str) -> str:
    """Spill folder: the variable, else ``<database>.tmp`` beside the warehouse file (DuckDB's own habit)."""
    configured = os.environ.get(TEMP_DIR_ENV, "").strip()
    if configured:
        return configured
    in_memory = str(database) in ("", ":memory:") or str(database).startswith(":memory:")
    return ".tmp" if in_memory else f"{database}.tmp"


def warehouse_settings(database: Path | str, *, preserve_insertion_order: bool, vacuum: bool = True) -> dict[str, Any]:
    """The settings of a connection to ``database``, as DuckDB names them; ``vacuum=False``: without DuckDB's
    vacuum at checkpoints (module docstring)."""
    return {
        "threads": threads(),
        "memory_limit": memory_limit(),
        "temp_directory": temp_directory(database),
        "preserve_insertion_order": preserve_insertion_order,
    } | ({} if vacuum else NO_VACUUM)


def apply_settings(con: Any, settings: dict[str, Any]) -> None:
    for name, value in settings.items():
        literal = str(value).lower() if isinstance(value, bool) else str(value)
        con.execute(f"set {name} = {sql_literal(literal)}")


def connect(
    database: Path | str, *, preserve_insertion_order: bool, time_zone: str | None = None, vacuum: bool = True
) -> Any:
    """A connection to ``database`` with the warehouse's settings (the loader's, the benchmark floor's and the
    publication's; dbt's come through the ``Plugin``), and ``time_zone`` when given; ``vacuum=False`` for the
    warehouse's writers. They are SET on the new
    connection rather than passed to ``duckdb.connect``: a second connection to an open file with another
    configuration would be refused."""
    import duckdb

    con = duckdb.connect(str(database))
    settings = warehouse_settings(database, preserve_insertion_order=preserve_insertion_order, vacuum=vacuum)
    apply_settings(con, settings | ({"TimeZone": time_zone} if time_zone else {}))
    return con


try:  # the dbt-duckdb plugin; the loader imports this module without needing dbt
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - dbt-duckdb is a dependency of the project
    BasePlugin = object  # type: ignore[assignment,misc]


# PR_SET_PDEATHSIG (linux/prctl.h): the signal this process receives when its parent dies.
PR_SET_PDEATHSIG = 1
_tied_to_run: list[int] = []  # the children lock's descriptor: held until this process exits


def _watch_the_run(run_pid: int) -> None:
    """Body of a thread that lives as long as the process. The kernel keeps the parent-death signal per thread,
    and dbt opens DuckDB from a short-lived worker thread: asked from there, the signal would be dropped with it.
    Polling the parent is the fallback where ``prctl`` is missing."""
    import ctypes
    import signal
    import time

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    while os.getppid() == run_pid:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)  # the run is gone: so is what it started


def die_with_the_run(database: Path | str) -> bool:
    """In a dbt process started by a run (``CONTACT_WAREHOUSE_RUN_PID`` names its parent): be killed with the
    run, and hold ``<warehouse>.lock.children`` shared while alive (contact_warehouse/publication/locking.py says why).

    A run killed with SIGKILL cannot stop its children, and the run lock (a flock) is not inherited by them: its dbt
    would go on writing the build file for a minute while the next run, finding the lock free, failed on DuckDB's
    own file lock. Returns whether this process is tied to a run."""
    import fcntl
    import threading

    from contact_warehouse.settings import RUN_PID_ENV, children_lock_path_for

    run_pid = os.environ.get(RUN_PID_ENV, "").strip()
    if not run_pid.isdigit() or os.getppid() != int(run_pid):
        return False  # dbt run by hand, or by something the run started: the parent is not the run
    if _tied_to_run:
        return True
    if str(database) not in ("", ":memory:"):
        fd = os.open(children_lock_path_for(database), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)  # a starting run holds it exclusively for an instant only
        _tied_to_run.append(fd)
    else:
        _tied_to_run.append(-1)
    threading.Thread(target=_watch_the_run, args=(int(run_pid),), name="die-with-the-run", daemon=True).start()
    return True


class Plugin(BasePlugin):  # type: ignore[misc,valid-type]
    """dbt-duckdb plugin (listed in profiles.yml): threads, memory limit and spill folder of dbt's database, from
    the environment, without DuckDB's vacuum; a dbt started by a run dies with it (``die_with_the_run``)."""

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        # Called before DuckDB opens the file: from here on this dbt cannot outlive its run.
        die_with_the_run(creds.path)
        # Passed to duckdb.connect. The per-cursor settings come from the profile.
        config.update(warehouse_settings(creds.path, preserve_insertion_order=False, vacuum=False))
