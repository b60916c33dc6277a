"""The benchmark's child process: ``python -m orchestration.bench_job OUT.json`` runs ``warehouse_job``
in-process on an ephemeral instance and writes its step times and run facts to ``OUT.json``.

It is the Dagster side of ``contact_warehouse.bench``, which starts it in a subprocess so that the peak
memory of the process tree (dbt's processes included) is the run's.
"""

from __future__ import annotations

import atexit
import gc
import json
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contact_warehouse.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    import dagster as dg


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its reaped children (dbt's process, once its step has waited for it)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _maxrss_bytes(who: int) -> int:
    """Peak RSS of this process (``RUSAGE_SELF``) or of its largest reaped child (``RUSAGE_CHILDREN``).

    This process's own peak is its memory's high-water mark (``VmHWM``), not ``ru_maxrss``: Linux keeps
    ``ru_maxrss`` across ``execve``, so a process started by the benchmark's driver begins with the driver's peak
    (3.96 GiB at 10 million events, after the data generation and the floor), whatever it holds itself. A dbt
    child's ``ru_maxrss`` starts from this process's RSS when it was started (1.5 GiB at most, below dbt's own)."""
    if who == resource.RUSAGE_SELF:
        status = Path("/proc/self/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    return resource.getrusage(who).ru_maxrss * 1024  # Linux reports ru_maxrss in KiB


def _peaks_so_far() -> dict[str, int]:
    """The peak RSS of this process and of its reaped children (dbt's) so far: read at each step's end, the step
    after which a peak rises is the step that set it (the steps run one after another in this process)."""
    return {
        "self_maxrss_bytes": _maxrss_bytes(resource.RUSAGE_SELF),
        "children_maxrss_bytes": _maxrss_bytes(resource.RUSAGE_CHILDREN),
    }


def _record_step_cpu(instance: Any, marks: dict[str, float], steps_cpu: dict[str, float], steps_rss: dict) -> None:
    """Each step's CPU seconds (wall times follow a shared machine's load: DECISIONS.md "The nightly run's costs
    outside the dbt models") and peaks so far (``_peaks_so_far``), read as Dagster stores its start and end events."""
    handle = instance.handle_new_event

    def timed(event: Any, *args: Any, **kwargs: Any) -> None:
        kind = event.dagster_event.event_type_value if event.dagster_event is not None else None
        if event.step_key and kind == "STEP_START":
            marks[event.step_key] = _cpu_seconds()
        elif event.step_key in marks and kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            steps_cpu[event.step_key] = _cpu_seconds() - marks[event.step_key]
            steps_rss[event.step_key] = _peaks_so_far()
        handle(event, *args, **kwargs)

    instance.handle_new_event = timed


def _step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Each step's wall seconds, from its start and end events in the run's log."""
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[entry.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in starts:
            steps[entry.step_key] = entry.timestamp - starts[entry.step_key]
    return steps


def run_and_report(out: Path) -> int:
    """Run the job; write step times and run facts to ``out``."""
    began = time.perf_counter()
    import dagster as dg

    from orchestration.definitions import defs

    job = defs().resolve_job_def("warehouse_job")  # loading the definitions counts as import, as before they were lazy
    imported = time.perf_counter()
    instance = dg.DagsterInstance.ephemeral()
    marks: dict[str, float] = {}
    steps_cpu: dict[str, float] = {}
    steps_rss: dict[str, dict[str, int]] = {}
    _record_step_cpu(instance, marks, steps_cpu, steps_rss)
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    executed = time.perf_counter()
    steps = _step_seconds(instance, result.run_id)
    targets = sorted((DBT_PROJECT_DIR / "target").glob(f"warehouse_dbt_assets-{result.run_id[:7]}-*"))
    report = {
        "success": result.success,
        "run_id": result.run_id,
        "import_seconds": imported - began,
        "execute_seconds": executed - imported,
        "steps": steps,
        "steps_cpu_seconds": steps_cpu,
        "dbt_target_dir": str(targets[-1]) if targets else None,
        **_peaks_so_far(),
        "steps_maxrss_so_far": steps_rss,
    }
    out.write_text(json.dumps(report, indent=2))
    atexit.register(gc.freeze)  # as `contact-warehouse run`: no collection of the loaded modules at exit (cli.py)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m orchestration.bench_job OUT.json (started by contact-warehouse bench)", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_and_report(Path(sys.argv[1])))
