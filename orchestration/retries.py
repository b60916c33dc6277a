"""Retries of the steps that can fail for a moment: loading, the dbt build, publication (README "Running in
production", DECISIONS.md "Retries only for transient failures").

Each of those steps has a RetryPolicy and runs its body under ``only_transient_retries``: a failure that another
moment can fix (``contact_warehouse.operations.transient``: the build file locked by another process, a busy or
stale network file) is retried after ``CONTACT_WAREHOUSE_RETRY_DELAY_SECONDS`` (default 30), then twice and four
times that; any other failure (a failed test or expectation, a bad model, a full disk) is final at once, since a
retry would only repeat it minutes later. The three steps are idempotent: a file is loaded once (ledger, one
transaction), dbt rebuilds what it builds, publication swaps a complete file. The expectation checks and the report
are not retried: they only read what the build wrote, and their failure is a finding about the data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from contact_warehouse.operations.transient import is_transient, is_transient_text
from contact_warehouse.settings import retry_delay_seconds

RETRY_DELAY_SECONDS = retry_delay_seconds()
# Three retries (about 30 s, 1 min, 2 min): an analyst's query or a network mount recovers within minutes.
STEP_RETRY = dg.RetryPolicy(max_retries=3, delay=RETRY_DELAY_SECONDS, backoff=dg.Backoff.EXPONENTIAL)
# The build takes minutes and its retry starts over: two retries.
DBT_RETRY = dg.RetryPolicy(max_retries=2, delay=RETRY_DELAY_SECONDS, backoff=dg.Backoff.EXPONENTIAL)


@contextlib.contextmanager
def only_transient_retries() -> Iterator[None]:
    """Let the step's RetryPolicy act on transient failures only: any other error becomes a Failure that does not
    allow retries, with the error's own text as its description (what the CLI and the alert show)."""
    try:
        yield
    except dg.Failure as failure:
        if failure.allow_retries and not is_transient_text(failure.description):
            failure.allow_retries = False
        raise
    except Exception as error:
        if is_transient(error):
            raise
        raise dg.Failure(description=f"{type(error).__name__}: {error}", allow_retries=False) from error
