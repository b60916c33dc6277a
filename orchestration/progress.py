"""What `contact-warehouse run` prints: one line per step as the run goes, then a summary.

The lines come from the run's Dagster events (``DagsterInstance.add_event_listener``), delivered in the run's own
thread as they happen. Everything else (Dagster's DEBUG events, dbt's output) goes to the run's log file. A
failed run's summary starts with the step that failed and the first cause a user can act on.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import dagster as dg

from contact_warehouse.settings import DBT_PROJECT_DIR

# Step names of the job (kept literal so that this module imports neither dbt's manifest nor the checks; a test
# compares them with the definitions).
DBT_STEP = "warehouse_dbt_assets"
CHECK_NAME = "great_expectations"
FRESHNESS_CHECK = "source_freshness"  # orchestration/freshness.py: its check and its step
LOAD_PREFIX = "load_"
LABEL_WIDTH = 24

# Messages that say what the user must fix (a full disk, a permission, memory), wherever they appear: the errors
# that follow them ("cannot rollback", aborted transactions, skipped tests) only repeat their consequence.
ROOT_CAUSE = re.compile(
    r"No space left on device|Disk quota exceeded|File too large|Read-only file system|Permission denied|"
    r"Out of Memory|could not allocate|Could not set lock|Conflicting lock",
    re.IGNORECASE,
)
CONSEQUENCE = re.compile(r"cannot rollback|transaction is aborted|no transaction is active", re.IGNORECASE)


def _node_name(unique_id: str) -> str:
    """``model.contact_warehouse.stg_x`` -> ``model stg_x``; ``test.<project>.<name>.<hash>`` -> ``test <name>``;
    ``unit_test.<project>.<model>.<name>`` -> ``unit test <model>.<name>``."""
    parts = unique_id.split(".")
    if len(parts) < 3:
        return unique_id
    name = ".".join(parts[2:4]) if parts[0] == "unit_test" else parts[2]
    return f"{parts[0].replace('_', ' ')} {name}"


def dbt_results(target: Path) -> list[dict]:
    """The results of a dbt invocation (run_results.json of its target folder), empty when dbt wrote none."""
    try:
        return json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return []


def dbt_failure_cause(target: Path) -> str | None:
    """What failed in a dbt invocation, said so a user can act: the first node whose message names a root cause
    (disk, permissions, memory), else the first node that errored or failed, in the order dbt ran them, with its
    message and how many more failed. Falls back to dbt's log when dbt wrote no results (killed, disk full)."""
    failed = [r for r in dbt_results(target) if r.get("status") in ("error", "fail", "runtime error")]
    if failed:
        causes = [r for r in failed if ROOT_CAUSE.search(r.get("message") or "")]
        errors = [r for r in failed if r.get("status") != "fail" and not CONSEQUENCE.search(r.get("message") or "")]
        first = (causes or errors or failed)[0]
        message = _one_line(first.get("message") or first.get("status", ""))
        more = f" (and {len(failed) - 1} more failed)" if len(failed) > 1 else ""
        return f"{_node_name(first.get('unique_id', '?'))}: {message}{more}"
    try:
        lines = (target / "dbt.log").read_text(errors="replace").splitlines()
    except OSError:
        return None
    found = [line for line in lines if ROOT_CAUSE.search(line)] or [line for line in lines if "Error" in line]
    if not found:
        return None
    text = found[0]
    with contextlib.suppress(ValueError, KeyError, TypeError):  # dbt writes JSON log lines under Dagster
        text = json.loads(text)["info"]["msg"]
    return _one_line(text)


def _count(n: int) -> str:
    return f"{n:,}"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_messages(error: Any) -> list[str]:
    """Messages of an error and of everything it was raised from or during, outermost first."""
    messages, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "message", None):
            messages.append(error.message)
        error = getattr(error, "cause", None) or getattr(error, "context", None)
    return messages


def cause_of(error: Any, description: str | None = None) -> str:
    """The sentence that says what to fix: a root cause (disk, permission, memory) anywhere in the chain, else a
    Failure's own description, else the innermost error that is not a consequence of another ("cannot
    rollback")."""
    messages = _error_messages(error)
    for message in [description or "", *messages]:
        if ROOT_CAUSE.search(message):
            return _one_line(message)
    if description:
        return _one_line(description)
    useful = [m for m in messages if not CONSEQUENCE.search(m)] or messages
    if not useful:
        return "unknown error (see the log)"
    # Dagster wraps user errors ("Error occurred while executing op ..."): the innermost is the user's.
    return _one_line(useful[-1])


def _python_error(error: BaseException) -> str:
    chain: list[str] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 10:
        chain.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    for message in chain:
        if ROOT_CAUSE.search(message):
            return _one_line(message)
    return _one_line(chain[0])


@dataclass
class Failure:
    step: str
    cause: str


@dataclass
class RunProgress:
    """Listens to one run's events and prints its step lines; ``finish`` prints the summary."""

    out: TextIO
    run_id: str
    serving: Path
    report: Path
    failure: Failure | None = None
    _metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    _started: dict[str, float] = field(default_factory=dict)
    _checks: list[tuple[str, bool, str, str]] = field(default_factory=list)  # asset, passed, severity, description
    _checks_printed: int = 0
    _dbt_models: int = 0
    _dbt_tests: int = 0
    _published: bool = False
    _skipped: list[str] = field(default_factory=list)
    _freshness: list[tuple[bool, str]] = field(default_factory=list)

    # ------------------------------------------------------------------------------------------- output

    def _tty(self) -> bool:
        with contextlib.suppress(Exception):
            return self.out.isatty()
        return False

    def line(self, label: str, text: str = "") -> None:
        if self._tty():
            self.out.write("\r\033[K")  # clear a progress indication
        self.out.write(f"{label:<{LABEL_WIDTH - 1}} {text}".rstrip() + "\n")
        self.out.flush()

    def _progress(self, text: str) -> None:
        if self._tty():  # only a terminal gets the running count; logs and pipes get whole lines
            self.out.write(f"\r\033[K{text}")
            self.out.flush()

    # ------------------------------------------------------------------------------------------- events

    def on_event(self, entry: Any) -> None:
        try:
            self._on_event(entry)
        except Exception as error:  # never let the terminal's lines break the run itself
            self.line("(progress)", f"could not show an event: {error}")

    def _step_label(self, step: str) -> str:
        if step.startswith(LOAD_PREFIX):
            return f"load {step[len(LOAD_PREFIX) :]}"
        if step == DBT_STEP:
            return "dbt build"
        if step.endswith(CHECK_NAME):
            return "expectations"
        return step.split("__")[-1].replace("_", " ")

    def _on_event(self, entry: Any) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self._started[step] = entry.timestamp
            if step == DBT_STEP:
                self._progress("dbt build               running…")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            self._metadata.setdefault(step, {}).update(
                {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
            )
            if step == DBT_STEP:
                self._dbt_models += 1
                self._progress(f"dbt build               {self._dbt_models} models, {self._dbt_tests} tests…")
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.check_name == CHECK_NAME:
                self._checks.append(
                    (
                        evaluation.asset_key.path[-1],
                        evaluation.passed,
                        evaluation.severity.value,
                        evaluation.description or "",
                    )
                )
            elif evaluation.check_name == FRESHNESS_CHECK:
                self._freshness.append((evaluation.passed, evaluation.description or ""))
            elif step == DBT_STEP:
                self._dbt_tests += 1
                self._progress(f"dbt build               {self._dbt_models} models, {self._dbt_tests} tests…")
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            self._step_done(step, entry.timestamp, failed=None)
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            data = event.event_specific_data
            description = getattr(getattr(data, "user_failure_data", None), "description", None)
            cause = cause_of(data.error, description)
            if step == DBT_STEP:
                cause = dbt_failure_cause(self._dbt_target() or Path("/nonexistent")) or cause
                cause = cause.removeprefix("dbt build failed: ")
            self._step_done(step, entry.timestamp, failed=cause)
        elif kind == dg.DagsterEventType.STEP_UP_FOR_RETRY:
            data = event.event_specific_data
            wait = f" in {data.seconds_to_wait:.0f} s" if data.seconds_to_wait else ""
            self.line(self._step_label(step), f"failed for a moment ({cause_of(data.error)}); retrying{wait}")
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self._skipped.append(self._step_label(step))
        elif kind == dg.DagsterEventType.RUN_FAILURE and self.failure is None:
            self._flush_checks()
            message = entry.user_message or ""
            if not self._blocking_check_failure():
                self.failure = Failure("run", _one_line(message))

    def _step_done(self, step: str, timestamp: float, failed: str | None) -> None:
        seconds = timestamp - self._started.get(step, timestamp)
        label = self._step_label(step)
        if label != "expectations":
            self._flush_checks()
        if failed is not None:
            if self.failure is None:
                self.failure = Failure(label, failed)
            self.line(label, f"FAILED: {failed}")
            return
        meta = self._metadata.get(step, {})
        if step.startswith(LOAD_PREFIX):
            self.line(label, self._load_text(meta))
        elif step == DBT_STEP:
            self.line(label, f"{self._dbt_text()} ({seconds:.0f} s)")
        elif label == "expectations":
            return  # one line for every suite, printed when the next step ends
        elif step == FRESHNESS_CHECK:
            stale = [text for passed, text in self._freshness if not passed]
            if not stale:
                self.line(label, f"{len(self._freshness)} exports fresh ({seconds:.0f} s)")
            else:
                more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
                self.line(label, f"{len(stale)} of {len(self._freshness)} exports stale: {stale[0]}{more}")
        elif "serving_file" in meta:
            self._published = True
            self.line(
                "publish",
                f"{_count(meta.get('tables', 0))} marts tables, {_count(meta.get('rows', 0))} rows -> "
                f"{meta['serving_file']}",
            )
        elif "path" in meta:
            self.line(label, str(meta["path"]))
        else:
            self.line(label, f"done ({seconds:.0f} s)")

    @staticmethod
    def _load_text(meta: dict[str, Any]) -> str:
        loaded = meta.get("files_loaded", 0)
        files = f"{loaded} new file{'' if loaded == 1 else 's'}"
        others = [f"{meta[k]} {k.removeprefix('files_')}" for k in ("files_skipped", "files_refused") if meta.get(k)]
        rows = [f"{k.removeprefix('rows_')} {_count(v)}" for k, v in meta.items() if k.startswith("rows_")]
        head = files + (f" ({', '.join(others)})" if others else "")
        return head + (f"; rows {', '.join(rows)}" if rows else "")

    def _dbt_target(self) -> Path | None:
        target_root = DBT_PROJECT_DIR / "target"
        found = sorted(
            target_root.glob(f"{DBT_STEP}-{self.run_id[:7]}-*"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        return found[0] if found else None

    def _dbt_text(self) -> str:
        target = self._dbt_target()
        results = dbt_results(target) if target else []
        if not results:
            return f"{self._dbt_models} models, {self._dbt_tests} tests"
        counts: dict[tuple[str, str], int] = {}
        for result in results:
            kind = result.get("unique_id", "?").split(".")[0]
            kind = "test" if kind in ("test", "unit_test") else kind
            key = (kind, result.get("status", "?"))
            counts[key] = counts.get(key, 0) + 1

        def n(kind: str, *statuses: str) -> int:
            return sum(counts.get((kind, status), 0) for status in statuses)

        parts = [f"{n('model', 'success')} models", f"{n('seed', 'success')} seeds"]
        tests = f"tests {n('test', 'pass')} passed, {n('test', 'fail', 'error')} failed, {n('test', 'warn')} warned"
        warned = [_node_name(r.get("unique_id", "?")).split(" ")[-1] for r in results if r.get("status") == "warn"]
        if warned:  # warnings do not fail the run: their names say where to look
            tests += f" ({', '.join(warned[:2])}{', ...' if len(warned) > 2 else ''})"
        parts.append(tests)
        errors = sum(v for (kind, status), v in counts.items() if kind != "test" and status == "error")
        skipped = sum(v for (kind, status), v in counts.items() if status == "skipped")
        if errors:
            parts.append(f"{errors} errors")
        if skipped:
            parts.append(f"{skipped} skipped")
        return ", ".join(parts)

    def _blocking_check_failure(self) -> bool:
        failed = [c for c in self._checks if not c[1] and c[2] == "ERROR"]
        if failed and self.failure is None:
            asset, _, _, description = failed[0]
            more = f" (and {len(failed) - 1} more suites failed)" if len(failed) > 1 else ""
            self.failure = Failure("expectations", f"{asset}: {_one_line(description)}{more}")
        return bool(failed)

    def _flush_checks(self) -> None:
        checks = self._checks[self._checks_printed :]
        if not checks:
            return
        self._checks_printed = len(self._checks)
        passed = sum(c[1] for c in checks)
        failed = [c for c in checks if not c[1] and c[2] == "ERROR"]
        warned = [c for c in checks if not c[1] and c[2] != "ERROR"]
        text = f"{passed} suites passed, {len(failed)} failed, {len(warned)} warned"
        if failed:
            self._blocking_check_failure()
            text += f"; FAILED: {failed[0][0]}: {_one_line(failed[0][3], 200)}"
        elif warned:
            text += f" ({', '.join(c[0] for c in warned)})"
        self.line("expectations", text)

    def fail_outside_steps(self, stage: str, error: BaseException) -> None:
        if self.failure is None:
            self.failure = Failure(stage, _python_error(error))
        self.line(stage, f"FAILED: {self.failure.cause}")

    # ------------------------------------------------------------------------------------------- summary

    def finish(self, db: Path, log: Path, success: bool, seconds: float) -> None:
        self._flush_checks()
        if not success and self.failure is None:
            self.failure = Failure("run", "see the log")
        self.out.write("\n")
        if self.failure is not None:
            self.line(f"run FAILED at {self.failure.step}:", self.failure.cause)
        self._ledger(db)
        serving_note = "" if self._published else "  (not published by this run: it keeps the last good one)"
        self.line("warehouse:", str(db))
        self.line("serving file:", f"{self.serving}{serving_note}")
        self.line("report:", str(self.report) if self.report.exists() else f"{self.report} (none yet)")
        self.line("log:", str(log))
        if self.failure is None:
            self.line("run succeeded", f"in {seconds:.0f} s")
        else:
            self.line("failed:", f"{self.failure.step}: {self.failure.cause}")

    def _ledger(self, db: Path) -> None:
        """The load ledger per export, over every load so far; the optional columns when the ledger has them."""
        import duckdb

        if not db.exists():
            return
        try:
            with duckdb.connect(str(db), read_only=True) as con:
                columns = {
                    name
                    for (name,) in con.execute(
                        "select column_name from information_schema.columns "
                        "where table_schema = 'raw' and table_name = '_load_ledger'"
                    ).fetchall()
                }
                if not columns:
                    return
                wanted = [
                    c
                    for c in ("rows_read", "rows_loaded", "rows_rejected", "rows_filtered", "rows_duplicate")
                    if c in columns
                ]
                sums = ", ".join(f"coalesce(sum({c}), 0)" for c in wanted)
                rows = con.execute(
                    f"""select export, count(*) filter (where status = 'loaded'),
                               count(*) filter (where status = 'refused'), {sums}
                        from raw._load_ledger where status <> 'ignored' group by export order by export"""
                ).fetchall()
                # Files outside the export folders (the sample's planted_truths.json) are in the ledger as ignored:
                # a line naming them, not a nameless row of zeros.
                ignored = [
                    name
                    for (name,) in con.execute(
                        "select distinct file_path from raw._load_ledger where status = 'ignored' order by 1"
                    ).fetchall()
                ]
        except duckdb.Error as error:
            self.line("ledger:", f"could not be read: {_one_line(error, 200)}")
            return
        header = f"{'ledger (all loads)':<22}{'files':>6}{'refused':>8}" + "".join(f"{c:>15}" for c in wanted)
        self.out.write(header + "\n")
        for export, files, refused, *values in rows:
            self.out.write(f"{export:<22}{files:>6}{refused:>8}" + "".join(f"{_count(v):>15}" for v in values) + "\n")
        if ignored:
            names = ", ".join(Path(name).name for name in ignored[:3]) + (", ..." if len(ignored) > 3 else "")
            self.out.write(f"{'not read':<22}{len(ignored):>6} file(s) outside <landing>/<export>/: {names}\n")
