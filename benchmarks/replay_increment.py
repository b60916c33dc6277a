"""Replay a kept benchmark's nightly increment and split its CPU (DECISIONS.md "Where the nightly run's fixed cost
goes"): ``python benchmarks/replay_increment.py SRC SCRATCH [--profile OUT.prof]`` from the worktree, with the
worktree's environment (PYTHONPATH, DAGSTER_HOME).

SRC is a size's work folder kept by ``contact-warehouse bench --keep`` (``after_full_build/``, ``landing/``, which
already holds the next day). SCRATCH receives fresh copies of the warehouse, serving and landing folders; the lake's
and the file hashes' paths are rewritten to the copy (else the first load rewrites the whole lake), the manifest is
parsed with the run's environment as the benchmark does, then ``orchestration.bench_job`` runs in a child process.
Prints the child's CPU (its own and its reaped children's, as the benchmark counts it), each step's CPU in the Dagster
process alone, and the CPU spent after the run's last exit handler (the interpreter's teardown). ``--profile`` runs
the Dagster process under cProfile on a CPU clock (pure-Python code is inflated several times: compare calls)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import atexit, cProfile, json, resource, sys, time
from pathlib import Path
import orchestration.bench_job as bj
def own():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
def kids():
    r = resource.getrusage(resource.RUSAGE_CHILDREN); return r.ru_utime + r.ru_stime
bj._cpu_seconds = own  # each step's CPU of this process only
out, prof_path = Path(sys.argv[1]), sys.argv[2]
prof = cProfile.Profile(time.process_time) if prof_path else None
if prof: prof.enable()
bj.run_and_report(out)
if prof: prof.disable(); prof.dump_stats(prof_path)
def last():  # registered after the run's own exit handlers: runs before them
    print(json.dumps({"own_cpu_at_exit": own(), "children_cpu_at_exit": kids()}), flush=True)
atexit.register(last)
"""


def _prepare(src: Path, scratch: Path) -> dict[str, str]:
    import duckdb

    for folder, origin in (("warehouse", "after_full_build/warehouse"), ("serving", "after_full_build/serving")):
        shutil.rmtree(scratch / folder, ignore_errors=True)
        shutil.copytree(src / origin, scratch / folder)
    if not (scratch / "landing").exists():
        shutil.copytree(src / "landing", scratch / "landing")
    with duckdb.connect(str(scratch / "warehouse" / "warehouse.duckdb")) as con:
        con.execute(
            "update raw._lake_files set lake = replace(lake, $old, $new), file_path = replace(file_path, $old, $new)",
            {"old": str(src), "new": str(scratch)},
        )
        con.execute(
            "update raw._file_hashes set file_path = replace(file_path, $old, $new)",
            {"old": str(src), "new": str(scratch)},
        )
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "CONTACT_WAREHOUSE_DB": str(scratch / "warehouse" / "warehouse.duckdb"),
        "CONTACT_WAREHOUSE_LANDING": str(scratch / "landing"),
        "CONTACT_WAREHOUSE_SERVING_DB": str(scratch / "serving" / "serving.duckdb"),
    }
    parse = "from orchestration.project import prepare_manifest; prepare_manifest(force=True)"
    subprocess.run([sys.executable, "-c", parse], env=env, check=True)
    return env


def main(argv: list[str]) -> int:
    src, scratch = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    prof = argv[argv.index("--profile") + 1] if "--profile" in argv else ""
    scratch.mkdir(parents=True, exist_ok=True)
    env = _prepare(src, scratch)
    out = scratch / "increment.job.json"
    load = os.getloadavg()
    began, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    with (scratch / "increment.log").open("w") as log:
        # A script file, not `python -c`: an import in the expectation steps ends a `-c` process (SystemExit 0).
        script = scratch / "replay_child.py"
        script.write_text(CHILD)
        child = subprocess.run(
            [sys.executable, str(script), str(out), prof], env=env, stdout=subprocess.PIPE, stderr=log
        )
    wall, after = time.perf_counter() - began, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    at_exit = json.loads(child.stdout.decode().strip().splitlines()[-1])
    report = json.loads(out.read_text())
    own_steps = report["steps_cpu_seconds"]
    results = json.loads((Path(report["dbt_target_dir"]) / "run_results.json").read_text())["results"]
    print(
        json.dumps(
            {
                "success": report["success"],
                "wall_seconds": round(wall, 2),
                "cpu_seconds": round(cpu, 2),
                "dagster_process_cpu": round(at_exit["own_cpu_at_exit"], 2),
                "children_cpu": round(at_exit["children_cpu_at_exit"], 2),
                "teardown_cpu": round(cpu - at_exit["own_cpu_at_exit"] - at_exit["children_cpu_at_exit"], 2),
                "steps_own_cpu_sum": round(sum(own_steps.values()), 2),
                "dbt_step_own_cpu": round(own_steps.get("warehouse_dbt_assets", 0.0), 2),
                "dbt_step_wall": round(report["steps"].get("warehouse_dbt_assets", 0.0), 2),
                "dbt_nodes_seconds": round(sum(n["execution_time"] for n in results), 2),
                "import_seconds": round(report["import_seconds"], 2),
                "load_average": [round(x, 2) for x in (*load, *os.getloadavg())],
                "steps_own_cpu": {k: round(v, 3) for k, v in own_steps.items()},
                "steps_maxrss_so_far_mib": {
                    k: [v["self_maxrss_bytes"] >> 20, v["children_maxrss_bytes"] >> 20]
                    for k, v in report.get("steps_maxrss_so_far", {}).items()
                },
            }
        )
    )
    return 0 if report["success"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
