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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from orchestration.settings import DBT_PROJECT_DIR, ROOT, TELEMETRY_ENV

BENCH_DIR = ROOT / "benchmarks"
WORK_ROOT = BENCH_DIR / "work"
RESULTS_DIR = BENCH_DIR / "results"
SEED = 42
DAYS = 30
START_DATE = date(2026, 10, 5)
GIB = 1024**3
POLL_SECONDS = 0.05
FLOOR_REPEATS = 3
# Python UDFs registered by orchestration/dbt_udfs.py: a model whose SQL calls one pays per-row Python.
UDF_NAMES = ("normalize_phone", "pii_hash", "sentiment_compound")
# Targets on the reference machine (2 cores, 24 GiB), judged at the largest size; measured, never asserted.
TARGETS = {
    "full_build_over_floor_max": 4.0,
    "increment_over_full_build_max": 0.10,
    "growth_time_ratio_max_per_10x_events": 12.0,
    "peak_rss_gib_max": 4.0,
}


@dataclass(frozen=True)
class Size:
    """A benchmark size: the generator's customers for ``DAYS`` days (about 19.5 events per customer-month)."""

    name: str
    customers: int
    approx_events: int


SIZES = {
    size.name: size
    for size in (
        Size("tiny", 400, 8_000),  # tests only
        Size("small", 5_130, 100_000),
        Size("medium", 51_300, 1_000_000),
        Size("large", 513_000, 10_000_000),
    )
}
DEFAULT_SIZES = ("small", "medium", "large")


class BenchError(RuntimeError):
    """A benchmark run that could not measure (a failed pipeline run)."""


# ------------------------------------------------------------------------------------------- data


def _relative_files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()}


def _export_file_names(landing: Path) -> list[Path]:
    from orchestration.loading.loader import export_files
    from orchestration.loading.sources import EXPORTS

    return [path for export in EXPORTS for path in export_files(landing, export)]


def generate_data(work: Path, size: Size, seed: int, days: int) -> dict[str, Any]:
    """The landing folder with ``days`` days, and the next day's new files in ``next_day/`` (same layout)."""
    from contact_warehouse.generator import generate

    landing, longer, next_day = work / "landing", work / "exports_next", work / "next_day"
    began = time.perf_counter()
    history = generate(landing, size.customers, days, seed, start_date=START_DATE)
    generate_seconds = time.perf_counter() - began
    extended = generate(longer, size.customers, days + 1, seed, start_date=START_DATE)
    old, new = _relative_files(landing), _relative_files(longer)
    added = sorted(name for name in new if name not in old and name != "planted_truths.json")
    for name in added:
        target = next_day / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(new[name], target)
    shutil.rmtree(longer)
    files = _export_file_names(landing)
    return {
        "customers": size.customers,
        "days": days,
        "seed": seed,
        "events": history.total_events,
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "generate_seconds": round(generate_seconds, 3),
        "increment_events": extended.total_events - history.total_events,
        "increment_files": len(added),
        "increment_bytes": sum((next_day / name).stat().st_size for name in added),
    }


def add_next_day(work: Path) -> None:
    """Deliver the next day: copy its new files into the landing folder."""
    next_day, landing = work / "next_day", work / "landing"
    for name, path in _relative_files(next_day).items():
        target = landing / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


# ------------------------------------------------------------------------------------------ floor


def _sql_list(paths: Iterable[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def measure_floor(landing: Path, scratch: Path, repeats: int = FLOOR_REPEATS) -> dict[str, Any]:
    """Seconds DuckDB needs to read every export file once into tables of a scratch file, untransformed: the
    fastest of ``repeats`` reads (a limit is a minimum; the others were slowed by the machine's other work)."""
    runs = [_read_once(landing, scratch) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "all_seconds": [r["seconds"] for r in runs]}


def _read_once(landing: Path, scratch: Path) -> dict[str, Any]:
    from orchestration.duckdb_settings import connect
    from orchestration.loading.loader import export_files
    from orchestration.loading.sources import EXPORTS

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


def _tree_rss(proc: Any) -> tuple[int, int]:
    """RSS of a process and its descendants: (sum, largest single process)."""
    import psutil

    total = largest = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for member in members:
        try:
            rss = member.memory_info().rss
        except psutil.Error:
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


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
    command = [sys.executable, "-m", "contact_warehouse.bench.run", "_job", str(out)]
    peak_total = peak_single = 0
    began, cpu_began = time.perf_counter(), _cpu_seconds(resource.RUSAGE_CHILDREN)
    with log.open("w") as log_file:
        child = subprocess.Popen(command, cwd=ROOT, env=_job_env(work), stdout=log_file, stderr=subprocess.STDOUT)
        proc = psutil.Process(child.pid)
        while child.poll() is None:
            total, single = _tree_rss(proc)
            peak_total, peak_single = max(peak_total, total), max(peak_single, single)
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
    }


def _job_child(out: Path) -> int:
    """Child process: run the job in-process on an ephemeral instance; write step times and run facts."""
    began = time.perf_counter()
    import dagster as dg

    from orchestration.definitions import defs

    imported = time.perf_counter()
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("warehouse_job").execute_in_process(instance=instance, raise_on_error=False)
    executed = time.perf_counter()
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[entry.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in starts:
            steps[entry.step_key] = entry.timestamp - starts[entry.step_key]
    targets = sorted((DBT_PROJECT_DIR / "target").glob(f"warehouse_dbt_assets-{result.run_id[:7]}-*"))
    kib = 1024  # Linux reports ru_maxrss in KiB
    report = {
        "success": result.success,
        "run_id": result.run_id,
        "import_seconds": imported - began,
        "execute_seconds": executed - imported,
        "steps": steps,
        "dbt_target_dir": str(targets[-1]) if targets else None,
        "self_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib,
        "children_maxrss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kib,
    }
    out.write_text(json.dumps(report, indent=2))
    return 0


# --------------------------------------------------------------------------------------- analysis


def _dbt_facts(target_dir: Path | None) -> dict[str, Any]:
    """Per-node times from dbt's run_results.json in the run's target folder (dagster-dbt's)."""
    if target_dir is None or not (target_dir / "run_results.json").exists():
        raise BenchError(f"no run_results.json in dbt's target folder {target_dir}")
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    by_kind: dict[str, float] = {}
    models = []
    for node in results:
        kind = node["unique_id"].split(".")[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + node["execution_time"]
        if kind == "model":
            code = (node.get("compiled_code") or "").lower()
            udfs = [name for name in UDF_NAMES if f"{name}(" in code]
            models.append((node["unique_id"].split(".")[-1], node["execution_time"], udfs))
    models.sort(key=lambda m: -m[1])
    model_seconds = by_kind.get("model", 0.0)
    udf_models = [m for m in models if m[2]]
    udf_seconds = sum(m[1] for m in udf_models)
    full_parse = False
    for log in target_dir.glob("dbt.log*"):
        with log.open(errors="replace") as handle:
            if any("Unable to do partial parsing" in line for line in handle):
                full_parse = True
                break
    return {
        "dbt_models_seconds": model_seconds,
        "dbt_tests_seconds": by_kind.get("test", 0.0) + by_kind.get("unit_test", 0.0),
        "dbt_seeds_seconds": by_kind.get("seed", 0.0),
        "dbt_nodes_seconds": sum(by_kind.values()),
        "dbt_nodes": len(results),
        "dbt_full_parse": full_parse,
        "top_models": [{"model": name, "seconds": round(sec, 3)} for name, sec, _ in models[:10]],
        "udf_models": [{"model": name, "seconds": round(sec, 3), "udfs": udfs} for name, sec, udfs in udf_models],
        "udf_models_seconds": udf_seconds,
        "udf_models_share_of_models": udf_seconds / model_seconds if model_seconds else 0.0,
    }


def summarize_run(run: dict[str, Any], work: Path, label: str, keep: bool) -> dict[str, Any]:
    steps = run["steps"]
    load = sum(sec for key, sec in steps.items() if key.startswith("load_"))
    dbt_step = steps.get("warehouse_dbt_assets", 0.0)
    checks = sum(sec for key, sec in steps.items() if key.endswith("_great_expectations"))
    publication = sum(sec for key, sec in steps.items() if "publication" in key)
    target = Path(run["dbt_target_dir"]) if run["dbt_target_dir"] else None
    dbt = _dbt_facts(target)
    if target is not None:  # dagster-dbt leaves one target folder per run: keep it with the bench's work
        shutil.move(str(target), work / f"{label}.dbt_target")
        if not keep:
            shutil.rmtree(work / f"{label}.dbt_target", ignore_errors=True)
    wall = run["wall_seconds"]
    work_seconds = load + dbt["dbt_nodes_seconds"] + checks + publication
    return {
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(run["cpu_seconds"], 3),
        "load_seconds": round(load, 3),
        "dbt_step_seconds": round(dbt_step, 3),
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in dbt.items()},
        "expectations_seconds": round(checks, 3),
        "publication_seconds": round(publication, 3),
        # Everything that is not loading, a dbt node, a check or the publication: process start and imports,
        # Dagster's run and event handling, dbt's start-up and parsing, dagster-dbt's event streaming.
        "dagster_overhead_seconds": round(wall - work_seconds, 3),
        "dbt_step_overhead_seconds": round(dbt_step - dbt["dbt_nodes_seconds"], 3),
        "startup_seconds": round(run["import_seconds"], 3),
        "peak_rss_bytes": run["peak_rss_bytes"],
        "peak_rss_gib": round(run["peak_rss_bytes"] / GIB, 3),
        "peak_rss_single_process_bytes": run["peak_rss_single_process_bytes"],
        "steps": {key: round(sec, 3) for key, sec in sorted(steps.items())},
    }


def _targets(result: dict[str, Any]) -> dict[str, Any]:
    ratios = result["ratios"]
    return {
        "full_build_over_floor": {
            "value": ratios["full_build_over_floor"],
            "max": TARGETS["full_build_over_floor_max"],
            "met": ratios["full_build_over_floor"] <= TARGETS["full_build_over_floor_max"],
        },
        "increment_over_full_build": {
            "value": ratios["increment_over_full_build"],
            "max": TARGETS["increment_over_full_build_max"],
            "met": ratios["increment_over_full_build"] <= TARGETS["increment_over_full_build_max"],
        },
        "peak_rss_gib": {
            "value": max(result["full_build"]["peak_rss_gib"], result["increment"]["peak_rss_gib"]),
            "max": TARGETS["peak_rss_gib_max"],
            "met": max(result["full_build"]["peak_rss_gib"], result["increment"]["peak_rss_gib"])
            < TARGETS["peak_rss_gib_max"],
        },
    }


def growth(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """How the full build grows between consecutive measured sizes (time ratio against event ratio)."""
    ordered = sorted(results.values(), key=lambda r: r["data"]["events"])
    out = []
    for smaller, larger in zip(ordered, ordered[1:], strict=False):
        events_ratio = larger["data"]["events"] / smaller["data"]["events"]
        time_ratio = larger["full_build"]["wall_seconds"] / smaller["full_build"]["wall_seconds"]
        cpu_ratio = larger["full_build"].get("cpu_seconds", 0) / max(smaller["full_build"].get("cpu_seconds", 0), 1e-9)
        allowed = TARGETS["growth_time_ratio_max_per_10x_events"] * events_ratio / 10
        out.append(
            {
                "from": smaller["size"],
                "to": larger["size"],
                "events_ratio": round(events_ratio, 3),
                "full_build_time_ratio": round(time_ratio, 3),
                "full_build_cpu_ratio": round(cpu_ratio, 3),
                "dbt_models_time_ratio": round(
                    larger["full_build"]["dbt_models_seconds"] / max(smaller["full_build"]["dbt_models_seconds"], 1e-9),
                    3,
                ),
                "time_ratio_max": round(allowed, 3),
                "met": time_ratio <= allowed,
            }
        )
    return out


# ------------------------------------------------------------------------------------------ driver


def _machine() -> dict[str, Any]:
    import duckdb
    import psutil

    from orchestration.duckdb_settings import default_threads

    return {
        "cores": default_threads(),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "load_average_at_start": list(os.getloadavg()),
    }


def bench_size(
    size: Size, *, work_root: Path, keep: bool, seed: int, days: int, echo: Callable[[str], None]
) -> dict[str, Any]:
    from orchestration.duckdb_settings import warehouse_settings

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
    add_next_day(work)
    increment = summarize_run(run_job(work, "increment"), work, "increment", keep)
    echo(f"[{size.name}] increment {increment['wall_seconds']:.1f} s, peak RSS {increment['peak_rss_gib']:.2f} GiB")
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
            # The same on CPU time (user + system of every process), which other work on the machine disturbs less.
            "full_build_over_floor_cpu": round(full["cpu_seconds"] / max(floor["cpu_seconds"], 1e-9), 3),
            "increment_over_full_build_cpu": round(increment["cpu_seconds"] / max(full["cpu_seconds"], 1e-9), 3),
        },
    }
    result["targets"] = _targets(result)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


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
    }
    latest_path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


TABLE_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("events", lambda r: r["data"]["events"]),
    ("export files / MB", lambda r: f"{r['data']['files']} / {r['data']['bytes'] / 1e6:,.1f}"),
    ("floor s (read every export once)", lambda r: r["floor"]["seconds"]),
    ("  floor CPU s", lambda r: r["floor"]["cpu_seconds"]),
    ("full build s (wall)", lambda r: r["full_build"]["wall_seconds"]),
    ("  CPU s (all processes)", lambda r: r["full_build"]["cpu_seconds"]),
    ("  load s", lambda r: r["full_build"]["load_seconds"]),
    ("  dbt step s", lambda r: r["full_build"]["dbt_step_seconds"]),
    ("  dbt models s", lambda r: r["full_build"]["dbt_models_seconds"]),
    ("  dbt tests s (data + unit)", lambda r: r["full_build"]["dbt_tests_seconds"]),
    ("  expectations s", lambda r: r["full_build"]["expectations_seconds"]),
    ("  publication s", lambda r: r["full_build"]["publication_seconds"]),
    ("  orchestration overhead s", lambda r: r["full_build"]["dagster_overhead_seconds"]),
    ("  UDF models s (share of models)", lambda r: _udf_cell(r["full_build"])),
    ("  peak RSS GiB", lambda r: r["full_build"]["peak_rss_gib"]),
    ("increment events", lambda r: r["data"]["increment_events"]),
    ("increment s (wall)", lambda r: r["increment"]["wall_seconds"]),
    ("  CPU s (all processes)", lambda r: r["increment"]["cpu_seconds"]),
    ("  load s", lambda r: r["increment"]["load_seconds"]),
    ("  dbt models s", lambda r: r["increment"]["dbt_models_seconds"]),
    ("  dbt tests s", lambda r: r["increment"]["dbt_tests_seconds"]),
    ("  orchestration overhead s", lambda r: r["increment"]["dagster_overhead_seconds"]),
    ("  peak RSS GiB", lambda r: r["increment"]["peak_rss_gib"]),
    ("full build / floor (target <= 4)", lambda r: r["ratios"]["full_build_over_floor"]),
    ("increment / full build (target <= 0.10)", lambda r: r["ratios"]["increment_over_full_build"]),
    ("full build / floor, CPU time", lambda r: r["ratios"]["full_build_over_floor_cpu"]),
    ("increment / full build, CPU time", lambda r: r["ratios"]["increment_over_full_build_cpu"]),
)


def _udf_cell(run: dict[str, Any]) -> str:
    return f"{run['udf_models_seconds']:,.1f} ({run['udf_models_share_of_models']:.0%})"


def format_table(results: dict[str, dict[str, Any]], growth_rows: Sequence[dict[str, Any]] = ()) -> str:
    names = list(results)
    width = max(len(label) for label, _ in TABLE_ROWS) + 2
    lines = [f"{'':<{width}}" + "".join(f"{name:>16}" for name in names)]
    for label, getter in TABLE_ROWS:
        lines.append(f"{label:<{width}}" + "".join(f"{_fmt(getter(results[n])):>16}" for n in names))
    for name in names:
        lines.append(f"\n{name}: top dbt models of the full build (s)")
        for row in results[name]["full_build"]["top_models"]:
            lines.append(f"  {row['seconds']:>10,.2f}  {row['model']}")
    for row in growth_rows:
        verdict = "met" if row["met"] else "NOT met"
        lines.append(
            f"\ngrowth {row['from']} -> {row['to']}: {row['events_ratio']:.2f}x events, full build "
            f"{row['full_build_time_ratio']:.2f}x time, {row['full_build_cpu_ratio']:.2f}x CPU "
            f"(time at most {row['time_ratio_max']:.2f}x: {verdict})"
        )
    return "\n".join(lines)


def run(
    sizes: Sequence[str] = DEFAULT_SIZES,
    *,
    keep: bool = False,
    work_root: Path | None = None,
    results_dir: Path | None = None,
    seed: int = SEED,
    days: int = DAYS,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Benchmark each size in order; write and print the results. Returns the ``latest.json`` summary."""
    unknown = [name for name in sizes if name not in SIZES]
    if unknown:
        raise ValueError(f"unknown sizes {unknown}; choose among {list(SIZES)}")
    work_root = Path(work_root or WORK_ROOT)
    results_dir = Path(results_dir or RESULTS_DIR)
    results: dict[str, dict[str, Any]] = {}
    for name in sizes:
        results[name] = bench_size(SIZES[name], work_root=work_root, keep=keep, seed=seed, days=days, echo=echo)
        summary = _write_results({name: results[name]}, results_dir)  # written as each size ends
    summary_growth = [g for g in summary["growth"] if g["from"] in results or g["to"] in results]
    echo(format_table(results, summary_growth))
    echo(f"\nresults: {results_dir}/latest.json")
    return summary


def result_fields() -> list[str]:
    """The numeric fields every size's result has, each positive (tests check them)."""
    return [
        "data.events",
        "data.files",
        "data.bytes",
        "data.increment_events",
        "floor.seconds",
        "floor.cpu_seconds",
        "floor.rows",
        *[
            f"{phase}.{field}"
            for phase in ("full_build", "increment")
            for field in (
                "wall_seconds",
                "cpu_seconds",
                "load_seconds",
                "dbt_step_seconds",
                "dbt_models_seconds",
                "dbt_tests_seconds",
                "dbt_nodes_seconds",
                "expectations_seconds",
                "publication_seconds",
                "dagster_overhead_seconds",
                "udf_models_seconds",
                "peak_rss_bytes",
            )
        ],
        "ratios.full_build_over_floor",
        "ratios.increment_over_full_build",
    ]


__all__ = ["SIZES", "BenchError", "Size", "format_table", "growth", "result_fields", "run"]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_job":
        sys.exit(_job_child(Path(sys.argv[2])))
    print("usage: contact-warehouse bench [--sizes small,medium,large] [--keep]", file=sys.stderr)
    sys.exit(2)
