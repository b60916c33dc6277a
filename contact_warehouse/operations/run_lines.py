"""What `contact-warehouse run` prints: one line per step as the run goes, then a summary.

The lines follow the run's events, given one by one to ``RunLines`` (``orchestration/progress.py`` reads them from
Dagster). Everything else (Dagster's DEBUG events, dbt's output) goes to the run's log file. A failed run's summary
starts with the step that failed and the first cause a user can act on (causes.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from contact_warehouse.operations.causes import (
    cause_of,
    dbt_failure_cause,
    dbt_results,
    node_name,
    one_line,
    python_error,
)
from contact_warehouse.settings import DBT_PROJECT_DIR

# Step names of the job (kept literal so that this module imports neither dbt's manifest nor the checks; a test
# compares them with the definitions).
DBT_STEP = "warehouse_dbt_assets"
CHECK_NAME = "great_expectations"
FRESHNESS_CHECK = "source_freshness"  # orchestration/freshness.py: its check and its step
LOAD_PREFIX = "load_"
LABEL_WIDTH = 24


def _count(n: int) -> str:
    return f"{n:,}"


@dataclass
class Failure:
    step: str
    cause: str


@dataclass
class RunLines:
    """Prints one run's step lines as its steps report (one method per kind of event); ``finish`` prints the
    summary. ``orchestration/progress.py`` calls these methods from the run's Dagster events."""

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

    def _step_label(self, step: str) -> str:
        if step.startswith(LOAD_PREFIX):
            return f"load {step[len(LOAD_PREFIX) :]}"
        if step == DBT_STEP:
            return "dbt build"
        if step.endswith(CHECK_NAME):
            return "expectations"
        return step.split("__")[-1].replace("_", " ")

    def step_started(self, step: str, timestamp: float) -> None:
        self._started[step] = timestamp
        if step == DBT_STEP:
            self._progress("dbt build               running…")

    def materialized(self, step: str, metadata: Mapping[str, Any]) -> None:
        """An asset of ``step`` materialized; ``metadata`` holds plain values (the load's counts, the file)."""
        self._metadata.setdefault(step, {}).update(metadata)
        if step == DBT_STEP:
            self._dbt_models += 1
            self._progress(f"dbt build               {self._dbt_models} models, {self._dbt_tests} tests…")

    def check_evaluated(
        self, step: str, check_name: str, asset: str, passed: bool, severity: str, description: str, tests: int = 1
    ) -> None:
        """An asset check's result; ``severity`` is ``ERROR`` or ``WARN``; ``tests`` the dbt tests it sums up (a
        model's ``dbt_tests`` check, dbt_tests.py)."""
        if check_name == CHECK_NAME:
            self._checks.append((asset, passed, severity, description))
        elif check_name == FRESHNESS_CHECK:
            self._freshness.append((passed, description))
        elif step == DBT_STEP:
            self._dbt_tests += tests
            self._progress(f"dbt build               {self._dbt_models} models, {self._dbt_tests} tests…")

    def step_succeeded(self, step: str, timestamp: float) -> None:
        self._step_done(step, timestamp, failed=None)

    def step_failed(self, step: str, timestamp: float, error: Any, description: str | None) -> None:
        """``error`` is the step's error chain (objects with ``message``, ``cause``, ``context``); ``description``
        the step's own words for the failure, if it gave any."""
        cause = cause_of(error, description)
        if step == DBT_STEP:
            cause = dbt_failure_cause(self._dbt_target() or Path("/nonexistent")) or cause
            cause = cause.removeprefix("dbt build failed: ")
        self._step_done(step, timestamp, failed=cause)

    def step_retrying(self, step: str, error: Any, seconds_to_wait: float | None) -> None:
        wait = f" in {seconds_to_wait:.0f} s" if seconds_to_wait else ""
        self.line(self._step_label(step), f"failed for a moment ({cause_of(error)}); retrying{wait}")

    def step_skipped(self, step: str) -> None:
        self._skipped.append(self._step_label(step))

    def run_failed(self, message: str) -> None:
        if self.failure is not None:
            return
        self._flush_checks()
        if not self._blocking_check_failure():
            self.failure = Failure("run", one_line(message))

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
        elif "deleted_rows_removed" in meta:  # the storage step (maintenance/storage.py)
            tables = len(meta.get("tables_rewritten") or [])
            self.line(
                label,
                f"{tables} table{'' if tables == 1 else 's'} rewritten, "
                f"{_count(meta['deleted_rows_removed'])} deleted rows removed ({seconds:.0f} s)",
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

    def _dbt_targets(self) -> list[Path]:
        """This run's dbt target folders, newest first: one per dbt invocation (off DuckDB, one on each side of the
        Python step)."""
        target_root = DBT_PROJECT_DIR / "target"
        found = target_root.glob(f"{DBT_STEP}-{self.run_id[:7]}-*")
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def _dbt_target(self) -> Path | None:
        found = self._dbt_targets()
        return found[0] if found else None

    def _dbt_text(self) -> str:
        # Every invocation's results: the last one alone (off DuckDB, the 3 marts after the Python step) said
        # "3 models" for a run that built them all. A node's newest result only: a retried build repeats the nodes.
        newest: dict[str, dict[str, Any]] = {}
        for target in self._dbt_targets():
            for result in dbt_results(target):
                newest.setdefault(result.get("unique_id", "?"), result)
        results = list(newest.values())
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
        warned = [node_name(r.get("unique_id", "?")).split(" ")[-1] for r in results if r.get("status") == "warn"]
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
            self.failure = Failure("expectations", f"{asset}: {one_line(description)}{more}")
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
            text += f"; FAILED: {failed[0][0]}: {one_line(failed[0][3], 200)}"
        elif warned:
            text += f" ({', '.join(c[0] for c in warned)})"
        self.line("expectations", text)

    def fail_outside_steps(self, stage: str, error: BaseException) -> None:
        if self.failure is None:
            self.failure = Failure(stage, python_error(error))
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
            self.line("ledger:", f"could not be read: {one_line(error, 200)}")
            return
        header = f"{'ledger (all loads)':<22}{'files':>6}{'refused':>8}" + "".join(f"{c:>15}" for c in wanted)
        self.out.write(header + "\n")
        for export, files, refused, *values in rows:
            self.out.write(f"{export:<22}{files:>6}{refused:>8}" + "".join(f"{_count(v):>15}" for v in values) + "\n")
        if ignored:
            names = ", ".join(Path(name).name for name in ignored[:3]) + (", ..." if len(ignored) > 3 else "")
            self.out.write(f"{'not read':<22}{len(ignored):>6} file(s) outside <landing>/<export>/: {names}\n")
