"""Benchmark of the whole pipeline at growing sizes: ``contact-warehouse bench`` (``make bench``).

For each size it generates a month of exports (same seed), then measures:

- **floor**: DuckDB reading every raw export once into tables, with no transformation (``read_csv`` of the CSV
  exports as text, ``read_text`` of the JSON ones, into a scratch DuckDB file): the physical limit of this
  pipeline on this machine;
- **full build**: the Dagster job ``warehouse_job`` (load every export, ``dbt build`` of every model and test,
  expectation checks, publication) on an empty warehouse, in a subprocess so that its peak memory (RSS of the
  process tree, dbt's processes included) is the run's;
- **nightly increment**: one more day of exports copied into the landing folder, then the same job;

and reports the ratios full build / floor and increment / full build, dbt's slowest models, the time of the
models that call the Python UDFs, the orchestration overhead, peak memory, and how the full build grows between
sizes. Results go to ``benchmarks/results/<timestamp>-<size>.json`` and ``benchmarks/results/latest.json``
(the latest result of every size). Work folders live under ``benchmarks/work/`` (gitignored), removed unless
``keep``. Timings on a shared machine are noisy: compare runs of the same machine and load.

This module runs the sizes; ``analysis.py`` turns a run's records into times, ratios and targets, ``table.py``
prints them, ``orchestration/bench_job.py`` is the child process that runs the Dagster job, and the data (a
month plus the next day) comes from ``contact_warehouse.generator.days``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contact_warehouse.engine.sql import sql_literal
from contact_warehouse.generator.days import Size, add_next_day, generate_data
from contact_warehouse.settings import ROOT, TELEMETRY_ENV

from .analysis import TARGETS, BenchError, growth, history_independence, median_increment, summarize_run, targets
from .table import format_table

BENCH_DIR = ROOT / "benchmarks"
WORK_ROOT = BENCH_DIR / "work"
RESULTS_DIR = BENCH_DIR / "results"
SEED = 42
DAYS = 30
POLL_SECONDS = 0.05
FLOOR_REPEATS = 3
# The files a run writes and a repeated night starts from; the landing folder is the data, never copied.
RUN_FOLDERS = ("warehouse", "serving")
SNAPSHOT = "after_full_build"

SIZES = {
    size.name: size
    for size in (
        Size("tiny", 400, 8_000),  # tests only
        Size("small", 5_130, 100_000),
        Size("medium", 51_300, 1_000_000),
        Size("large", 513_000, 10_000_000),
        # Long history (issue 22): medium's daily volume kept for 120 days; its increment against medium's is the
        # history-independence ratio (analysis.history_independence).
        Size("long", 51_300, 4_000_000),
    )
}
# Days of history per size, where not DAYS.
SIZE_DAYS = {"long": 120}
DEFAULT_SIZES = ("small", "medium", "long", "large")


# ------------------------------------------------------------------------------------------ floor


def _sql_list(paths: Iterable[Path]) -> str:
    return "[" + ", ".join(sql_literal(str(p)) for p in paths) + "]"


def measure_floor(landing: Path, scratch: Path, repeats: int = FLOOR_REPEATS) -> dict[str, Any]:
    """Seconds DuckDB needs to read every export file once into tables of a scratch file, untransformed: the
    fastest of ``repeats`` reads (a limit is a minimum; the others were slowed by the machine's other work)."""
    runs = [_read_once(landing, scratch) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "all_seconds": [r["seconds"] for r in runs]}


def _read_once(landing: Path, scratch: Path) -> dict[str, Any]:
    from contact_warehouse.engine.duckdb_settings import connect
    from contact_warehouse.loading.landing import export_files
    from contact_warehouse.loading.sources import EXPORTS

    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.unlink(missing_ok=True)
    rows = files = size = 0
    began, cpu_began = time.perf_counter(), _cpu_seconds(resource.RUSAGE_SELF)
    con = connect(scratch, preserve_insertion_order=False)
    try:
        for export in EXPORTS:
            paths = export_files(landing, export)
            if not paths:
                continue
            if export.format == "csv":
                # The export's own columns as text, as the loader reads them (no type sniffing, which costs more
                # than the read); a file with another header is read too, padded or cut to those columns.
                columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in export.main_table.column_names) + "}"
                reader = (
                    f"read_csv({_sql_list(paths)}, columns = {columns}, header = true, auto_detect = false, "
                    "delim = ',', quote = '\"', escape = '\"', null_padding = true, ignore_errors = true)"
                )
            else:
                reader = f"read_text({_sql_list(paths)})"
            con.execute(f"create table {export.name} as select * from {reader}")
            rows += con.execute(f"select count(*) from {export.name}").fetchone()[0]
            files += len(paths)
            size += sum(p.stat().st_size for p in paths)
        con.execute("checkpoint")
    finally:
        con.close()
    seconds, cpu = time.perf_counter() - began, _cpu_seconds(resource.RUSAGE_SELF) - cpu_began
    scratch.unlink(missing_ok=True)
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "files": files, "bytes": size, "rows": rows}


# ------------------------------------------------------------------------------------- pipeline run


def _cpu_seconds(who: int) -> float:
    """User + system CPU time of this process (RUSAGE_SELF) or of its waited-for descendants (RUSAGE_CHILDREN).
    Less sensitive than wall time to other work on a shared machine."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _tree_rss(proc: Any) -> dict[int, int]:
    """RSS of a process and of each of its descendants, by process id."""
    import psutil

    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return {}
    sizes = {}
    for member in members:
        try:
            sizes[member.pid] = member.memory_info().rss
        except psutil.Error:
            continue
    return sizes


def _job_env(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        **TELEMETRY_ENV,
        "CONTACT_WAREHOUSE_DB": str(work / "warehouse" / "warehouse.duckdb"),
        "CONTACT_WAREHOUSE_LANDING": str(work / "landing"),
        "CONTACT_WAREHOUSE_SERVING_DB": str(work / "serving" / "serving.duckdb"),
    }


def run_job(work: Path, label: str) -> dict[str, Any]:
    """Run ``warehouse_job`` in a child process (as the pipeline runs it), polling its process tree's RSS."""
    import psutil

    (work / "warehouse").mkdir(parents=True, exist_ok=True)
    out, log = work / f"{label}.job.json", work / f"{label}.log"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "orchestration.bench_job", str(out)]
    peak_total = peak_single = 0
    at_peak: dict[int, int] = {}
    began, cpu_began = time.perf_counter(), _cpu_seconds(resource.RUSAGE_CHILDREN)
    with log.open("w") as log_file:
        child = subprocess.Popen(command, cwd=ROOT, env=_job_env(work), stdout=log_file, stderr=subprocess.STDOUT)
        proc = psutil.Process(child.pid)
        while child.poll() is None:
            sizes = _tree_rss(proc)
            total = sum(sizes.values())
            if total > peak_total:
                peak_total, at_peak = total, sizes
            peak_single = max(peak_single, *sizes.values(), 0)
            time.sleep(POLL_SECONDS)
    # The child is reaped by poll(): its CPU time, and that of the dbt processes it waited for, is now ours.
    wall, cpu = time.perf_counter() - began, _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_began
    if child.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-4000:]
        raise BenchError(f"{label}: the job's process failed (exit {child.returncode}); log {log}:\n{tail}")
    report = json.loads(out.read_text())
    if not report["success"]:
        raise BenchError(f"{label}: warehouse_job failed (run {report['run_id']}); see {log}")
    peak_rusage = max(report["self_maxrss_bytes"], report["children_maxrss_bytes"])
    return {
        **report,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_bytes": max(peak_total, peak_rusage),
        "peak_rss_single_process_bytes": max(peak_single, peak_rusage),
        # The tree at its sampled peak: the job's own process first, then dbt's (which of them holds the peak).
        "peak_rss_tree_bytes": [at_peak.get(child.pid, 0), *(v for k, v in at_peak.items() if k != child.pid)],
    }


# ------------------------------------------------------------------------------------------ driver


# The packages whose versions move a run's Python-side cost (the project pins ranges, not versions).
_VERSIONED = ("dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "great_expectations", "pandas", "pyarrow")


def python_probe_seconds(repeats: int = 3) -> float:
    """CPU seconds of a fixed pure-Python loop (the fastest of ``repeats``): two machines, or one machine on two
    days, whose DuckDB floor agrees can differ twice over in Python speed, which dbt, Dagster and the Python models
    spend; results from different runs are comparable only when this agrees."""
    best = float("inf")
    for _ in range(repeats):
        began, table = time.process_time(), {}
        for i in range(1_000_000):
            table[i % 1000] = str(i)
        best = min(best, time.process_time() - began)
    return round(best, 3)


def _machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    import duckdb
    import psutil

    from contact_warehouse.engine.duckdb_settings import default_threads

    packages = {}
    for name in _VERSIONED:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {
        "cores": default_threads(),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "packages": packages,
        "python_probe_cpu_seconds": python_probe_seconds(),
        "load_average_at_start": list(os.getloadavg()),
    }


def bench_size(
    size: Size,
    *,
    work_root: Path,
    keep: bool,
    seed: int,
    days: int,
    echo: Callable[[str], None],
    increments: int = 1,
) -> dict[str, Any]:
    """One size: data, floor, full build, and the night ``increments`` times from the same warehouse (the full
    build's files copied back before each repeat; the median run is reported: ``analysis.median_increment``)."""
    from contact_warehouse.engine.duckdb_settings import warehouse_settings

    work = work_root / size.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = datetime.now(UTC)
    machine = _machine()
    echo(f"[{size.name}] generating {size.customers:,} customers x {days} days (seed {seed}) ...")
    data = generate_data(work, size, seed, days)
    echo(f"[{size.name}] {data['events']:,} events in {data['files']} files ({data['bytes'] / 1e6:,.1f} MB)")
    floor = measure_floor(work / "landing", work / "floor" / "scratch.duckdb")
    echo(f"[{size.name}] floor {floor['seconds']:.1f} s")
    _prepare_manifest(work)
    full = summarize_run(run_job(work, "full_build"), work, "full_build", keep)
    echo(f"[{size.name}] full build {full['wall_seconds']:.1f} s, peak RSS {full['peak_rss_gib']:.2f} GiB")
    if keep or increments > 1:
        _snapshot_after_full_build(work)
    add_next_day(work)
    nights = []
    for repeat in range(increments):
        label = "increment" if repeat == 0 else f"increment_{repeat + 1}"
        if repeat:
            _restore_after_full_build(work)
        night = summarize_run(run_job(work, label), work, label, keep)
        echo(f"[{size.name}] {label} {night['wall_seconds']:.1f} s, peak RSS {night['peak_rss_gib']:.2f} GiB")
        nights.append(night)
    increment = median_increment(nights)
    settings = warehouse_settings(_job_env(work)["CONTACT_WAREHOUSE_DB"], preserve_insertion_order=False)
    result = {
        "size": size.name,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine,
        "duckdb_settings": settings,
        "data": data,
        "floor": floor,
        "full_build": full,
        "increment": increment,
        "ratios": {
            "full_build_over_floor": round(full["wall_seconds"] / floor["seconds"], 3),
            "increment_over_full_build": round(increment["wall_seconds"] / full["wall_seconds"], 3),
            # Loading against DuckDB reading the same files (issue 22: at most 3x).
            "load_over_floor": round(full["load_seconds"] / floor["seconds"], 3),
            # The same on CPU time (user + system of every process), which other work on the machine disturbs less.
            "full_build_over_floor_cpu": round(full["cpu_seconds"] / max(floor["cpu_seconds"], 1e-9), 3),
            "increment_over_full_build_cpu": round(increment["cpu_seconds"] / max(full["cpu_seconds"], 1e-9), 3),
        },
    }
    result["targets"] = targets(result)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _copy_run_folders(source: Path, target: Path) -> None:
    """``target``'s warehouse and serving folders replaced by ``source``'s (a folder ``source`` lacks is removed)."""
    for folder in RUN_FOLDERS:
        shutil.rmtree(target / folder, ignore_errors=True)
        if (source / folder).exists():
            shutil.copytree(source / folder, target / folder)


def _snapshot_after_full_build(work: Path) -> None:
    """Copy the warehouse and serving files as the full build left them to ``after_full_build/``, so that the
    increment can be replayed (``bench --increments N``, or a model changed and measured again) without building the
    history again: copy them back over ``warehouse/`` and ``serving/`` and run ``python -m orchestration.bench_job
    <out.json>`` with the work folder's environment (README "Performance")."""
    _copy_run_folders(work, work / SNAPSHOT)


def _restore_after_full_build(work: Path) -> None:
    """The warehouse and serving files put back as the full build left them (``_snapshot_after_full_build``): the
    landing folder still holds the next day, which the restored load ledger has not seen, so the night runs again."""
    _copy_run_folders(work / SNAPSHOT, work)


def _prepare_manifest(work: Path) -> None:
    """dbt parse with the run's environment, so the run's dbt parses partially (same profile) as in production."""
    subprocess.run(
        [sys.executable, "-c", "from orchestration.project import prepare_manifest; prepare_manifest(force=True)"],
        cwd=ROOT,
        env=_job_env(work),
        check=True,
    )


def _write_results(results: dict[str, dict[str, Any]], results_dir: Path) -> dict[str, Any]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name, result in results.items():
        (results_dir / f"{stamp}-{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    latest_path = results_dir / "latest.json"
    latest = json.loads(latest_path.read_text()) if latest_path.exists() else {}
    sizes = {**latest.get("sizes", {}), **results}
    summary = {
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "targets": TARGETS,
        "sizes": dict(sorted(sizes.items(), key=lambda kv: kv[1]["data"]["events"])),
        "growth": growth(sizes),
        "history": history_independence(sizes),
    }
    latest_path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def run(
    sizes: Sequence[str] = DEFAULT_SIZES,
    *,
    keep: bool = False,
    work_root: Path | None = None,
    results_dir: Path | None = None,
    seed: int = SEED,
    days: int = DAYS,
    echo: Callable[[str], None] = print,
    increments: int = 1,
) -> dict[str, Any]:
    """Benchmark each size in order; write and print the results. Returns the ``latest.json`` summary.
    ``increments``: how many times each size's night is measured (its median run is reported)."""
    if increments < 1:
        raise ValueError(f"increments must be at least 1, not {increments}")
    unknown = [name for name in sizes if name not in SIZES]
    if unknown:
        raise ValueError(f"unknown sizes {unknown}; choose among {list(SIZES)}")
    work_root = Path(work_root or WORK_ROOT)
    results_dir = Path(results_dir or RESULTS_DIR)
    results: dict[str, dict[str, Any]] = {}
    for name in sizes:
        size_days = SIZE_DAYS.get(name, days)
        results[name] = bench_size(
            SIZES[name], work_root=work_root, keep=keep, seed=seed, days=size_days, echo=echo, increments=increments
        )
        summary = _write_results({name: results[name]}, results_dir)  # written as each size ends
    summary_growth = [g for g in summary["growth"] if g["from"] in results or g["to"] in results]
    echo(format_table(results, summary_growth, summary["history"]))
    echo(f"\nresults: {results_dir}/latest.json")
    return summary


__all__ = ["DEFAULT_SIZES", "SIZES", "SIZE_DAYS", "bench_size", "measure_floor", "run", "run_job"]
