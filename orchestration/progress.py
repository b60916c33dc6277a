"""The CLI's run lines from Dagster: ``RunProgress.on_event`` is given to ``DagsterInstance.add_event_listener`` and
hands each of the run's events, delivered in the run's own thread as they happen, to the library's ``RunLines``
(contact_warehouse/operations/run_lines.py: what is printed; causes.py: what a failure's cause is)."""

from __future__ import annotations

from typing import Any

import dagster as dg

from contact_warehouse.operations.dbt_tests import RUN_KEY
from contact_warehouse.operations.run_lines import RunLines


class RunProgress(RunLines):
    """Listens to one run's events and prints its step lines; ``finish`` prints the summary."""

    def on_event(self, entry: Any) -> None:
        try:
            self._on_event(entry)
        except Exception as error:  # never let the terminal's lines break the run itself
            self.line("(progress)", f"could not show an event: {error}")

    def _on_event(self, entry: Any) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        kind = event.event_type
        data = event.event_specific_data
        if kind == dg.DagsterEventType.STEP_START:
            self.step_started(step, entry.timestamp)
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            metadata = data.materialization.metadata
            self.materialized(step, {k: getattr(v, "value", v) for k, v in metadata.items()})
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            tests = getattr(data.metadata.get(RUN_KEY), "value", 1)  # a model's dbt_tests check sums up its tests
            outcome = (data.asset_key.path[-1], data.passed, data.severity.value, data.description or "")
            self.check_evaluated(step, data.check_name, *outcome, tests=tests)
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            self.step_succeeded(step, entry.timestamp)
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            description = getattr(getattr(data, "user_failure_data", None), "description", None)
            self.step_failed(step, entry.timestamp, data.error, description)
        elif kind == dg.DagsterEventType.STEP_UP_FOR_RETRY:
            self.step_retrying(step, data.error, data.seconds_to_wait)
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self.step_skipped(step)
        elif kind == dg.DagsterEventType.RUN_FAILURE:
            self.run_failed(entry.user_message or "")
