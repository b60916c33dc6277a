"""A model's dbt tests summed up as one result: what the Dagster check ``dbt_tests`` of each dbt model reports.

dagster-dbt makes one asset check per dbt test, and each result costs the run two Dagster events (an output and an
evaluation) handled in the thread that reads dbt's output, so dbt waits on them (about 10 ms each). One check per
model carries the same facts (every test's name, status and failures) in its metadata; here is the arithmetic of
it, without Dagster: which results a model's check reports, whether it passed, its severity, and the per-test
outcomes that ``meta.publication.checks`` and the CLI still list by name.

Statuses are dbt's (``pass``, ``warn``, ``fail``, ``error``, ``skipped``). As dagster-dbt did per test: a test passed
when its status is ``pass``; a failure of status ``warn`` (a test of severity warn, or one over ``warn_if`` only)
has severity WARN, which never blocks publication; ``fail`` or ``error`` has severity ERROR, which does. A skipped
test (its model failed) has no result, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The check's name on every dbt model's asset (orchestration/dbt_checks.py), and the keys of its metadata.
DBT_TESTS_CHECK = "dbt_tests"
TESTS_KEY = "tests"  # one entry per test: name, status, failures (rows failing, or None)
RUN_KEY = "tests_run"  # how many tests this result sums up (the CLI's "N tests" while dbt runs)

PASS = "pass"
WARN = "warn"
SKIPPED = "skipped"
ERROR, WARNING = "ERROR", "WARN"  # severities, as Dagster spells them


@dataclass(frozen=True)
class DbtTestResult:
    """One dbt test's result as dbt reported it."""

    unique_id: str
    name: str
    status: str
    failures: int | None = None  # rows the test found (dbt's num_failures), None when dbt gave none

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def severity(self) -> str:
        return WARNING if self.status == WARN else ERROR


@dataclass(frozen=True)
class ModelTests:
    """The summed-up result of one model's tests in one run."""

    passed: bool
    severity: str
    description: str
    tests: tuple[DbtTestResult, ...]

    def metadata(self) -> dict[str, Any]:
        """Plain values for the check's metadata (JSON): every test by name, failing ones first."""
        return {
            TESTS_KEY: [
                {"name": t.name, "status": t.status, "failures": t.failures}
                for t in sorted(self.tests, key=lambda t: (t.passed, t.name))
            ],
            RUN_KEY: len(self.tests),
        }


def dbt_test_result(raw_event: Mapping[str, Any]) -> DbtTestResult | None:
    """The test result in one of dbt's JSON log events (a result event of a data test), else None. The status is
    read as dagster-dbt reads it: the node's, else the result's."""
    data = raw_event.get("data") or {}
    node = data.get("node_info") or {}
    unique_id = node.get("unique_id") or ""
    if not unique_id.startswith("test."):
        return None
    status = str(node.get("node_status") or data.get("status") or "").lower()
    return DbtTestResult(unique_id, node.get("node_name") or unique_id.split(".")[2], status, data.get("num_failures"))


def summarize(results: Iterable[DbtTestResult]) -> ModelTests | None:
    """One model's test results as one check result; None when none ran (all skipped: no result, as per test)."""
    newest: dict[str, DbtTestResult] = {}
    for result in results:  # a retried build reports a test again: its last result counts
        newest[result.unique_id] = result
    ran = tuple(sorted((r for r in newest.values() if r.status != SKIPPED), key=lambda r: r.name))
    if not ran:
        return None
    failed = [r for r in ran if not r.passed]
    blocking = [r for r in failed if r.severity == ERROR]
    if not failed:
        return ModelTests(True, ERROR, f"{len(ran)} dbt tests passed", ran)
    worst = blocking or failed
    names = ", ".join(f"{r.name} ({r.status}{_failures(r)})" for r in worst[:3])
    more = f" and {len(worst) - 3} more" if len(worst) > 3 else ""
    warned = len(failed) - len(blocking)
    also = f"; {warned} warned" if blocking and warned else ""
    description = f"{len(worst)} of {len(ran)} dbt tests {'failed' if blocking else 'warned'}: {names}{more}{also}"
    return ModelTests(False, ERROR if blocking else WARNING, description, ran)


def _failures(result: DbtTestResult) -> str:
    return f", {result.failures} rows" if result.failures else ""


@dataclass(frozen=True)
class DbtTestOutcome:
    """One dbt test as a per-test check outcome (``meta.publication.checks`` lists each test by name)."""

    name: str
    passed: bool
    severity: str


def outcomes_of_tests(metadata: Mapping[str, Any]) -> list[DbtTestOutcome]:
    """The per-test outcomes carried by a ``dbt_tests`` check's metadata (plain values, as ``metadata()`` wrote)."""
    tests: Sequence[Mapping[str, Any]] = metadata.get(TESTS_KEY) or []
    results = (DbtTestResult("", t["name"], t["status"], t.get("failures")) for t in tests)
    return [DbtTestOutcome(r.name, r.passed, r.severity) for r in results if r.status != SKIPPED]
