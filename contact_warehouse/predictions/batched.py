"""``int_prediction_rows`` computed in full (first build, --full-refresh, the nightly's fall-back) in bounded memory,
by batches of customers read from DuckDB one at a time (issue 22).

A customer's rows read only that customer's contacts, answers and CRM row when no engagement spans two customers
(the condition the nightly run already relies on: ``reads.of_customers``); the prediction times and the data's
end are the whole data's. So the rows of a batch of customers, computed from their inputs alone at every time, are
exactly their rows of the one-batch computation, and the table is the union of the batches.

The conditions are checked in DuckDB, before anything is read into pandas: every row has a customer key and every
interaction an engagement id (``coded`` leaves the keys uncoded otherwise, and a NULL key belongs to no batch), and
no engagement spans two customers (``fingerprints.engagements_span_customers``). When one fails, or the data is
small enough for one batch, or there is no connection to write batches to (the Python step off DuckDB), the rows
are computed from the whole inputs in one frame (``prediction_rows``).

Otherwise a customer's batch is a hash of its key (``reads.window``'s cut: the same customer falls in the same batch
in the three inputs), and each batch's inputs are read from DuckDB as ``bounded`` keeps them at the first prediction
time (``reads.window``: the interactions the times read, the older ones summed per customer in ``earlier``), so
Python never holds the whole inputs (2.1-2.3 GiB of pandas frames at 10 million events: DECISIONS.md "The full
computation reads its batches from DuckDB").

The result is an Arrow ``RecordBatchReader`` whose batches are read and computed one at a time as DuckDB reads them:
dbt-duckdb registers what a Python model returns and runs ``create table ... as select * from`` it
(``py_write_table`` in its ``adapters.sql``), so each batch goes into the table and is freed before the next is
computed. A query on the model's connection is refused while that statement reads the reader ("code running inside
a query cannot use that query's connection"): the batches are read on a cursor of it (another connection to the
same database), from the inputs' SQL (tables of the database; frames handed over are registered on the cursor).
What Python holds at once is one batch's inputs and rows (about ``BATCH_ROWS`` rows) and the fingerprints, whatever
the history and the customer count; DuckDB writes the table within its own memory limit.

The physical order of the rows differs from the one-batch frame's (batch by batch): dbt's connections do not
preserve insertion order anyway (``engine/duckdb_settings.py``) and nothing reads the table by its order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from . import frames_from, prediction_rows, typed
from .features import Frames
from .fingerprints import Sources, engagements_span_customers
from .reads import Extent, batch_bound, named, windows
from .snapshots import recent_times, snapshot_times_between
from .stacked import stacked_rows_at

log = logging.getLogger(__name__)

# About this many rows per batch (customers x prediction times): ~520 bytes a row while a batch is computed
# (measured: 0.8 GiB over the inputs for 1.5M rows in one batch), so ~0.5 GiB for a batch. Smaller batches cost
# CPU: every prediction time's pandas steps run once per batch (~50 ms each, whatever the batch's size).
BATCH_ROWS = 1_000_000
BATCH_ROWS_ENV = "CONTACT_WAREHOUSE_PREDICTION_BATCH_ROWS"


def configured_batch_rows() -> int:
    """``BATCH_ROWS``, or the setting ``CONTACT_WAREHOUSE_PREDICTION_BATCH_ROWS`` (a machine with less memory, or
    a check of the batched path on a small warehouse)."""
    value = os.environ.get(BATCH_ROWS_ENV, "").strip()
    if not value:
        return BATCH_ROWS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{BATCH_ROWS_ENV}={value!r}: expected a positive whole number of rows")
    return int(value)


def read_whole(sources: Sources) -> Frames:
    """The whole inputs in pandas (the one-batch computation)."""
    return frames_from(sources.interactions.order("interaction_id").df(), sources.surveys.df(), sources.customers.df())


def _count(relation: duckdb.DuckDBPyRelation, condition: str) -> int:
    ((n,),) = relation.aggregate(f"count(*) filter ({condition})").fetchall()
    return int(n)


def batchable(sources: Sources) -> bool:
    """Every row has a customer key, every interaction an engagement id, and no engagement spans two customers: a
    batch's rows then read only its customers' inputs (module docstring). Checked in DuckDB."""
    nulls = _count(sources.interactions, "customer_key is null or engagement_id is null")
    nulls += _count(sources.surveys, "customer_key is null") + _count(sources.customers, "customer_key is null")
    return not nulls and not engagements_span_customers(sources)


def batch_count(sources: Sources, size: Extent, times: int, batch_rows: int) -> int:
    """How many batches of customers: ``reads.batch_bound`` of the customers, interactions and ``times``."""
    return batch_bound(_count(sources.customers, "true"), size.interactions, times, batch_rows)


def _finisher(fingerprint: pd.Series, stored_columns: dict[str, str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    fingerprint_column = list(stored_columns)[-1]
    values = fingerprint.to_numpy(dtype=np.int64)

    def finished(rows: pd.DataFrame) -> pd.DataFrame:
        # The fingerprint by position, not ``map``: a missing key would make map's result float and round every
        # 64-bit hash.
        at = fingerprint.index.get_indexer(rows["customer_key"]) if len(fingerprint) else np.full(len(rows), -1)
        found = values[np.maximum(at, 0)] if len(fingerprint) else np.zeros(len(rows), dtype=np.int64)
        rows[fingerprint_column] = pd.arrays.IntegerArray(found.astype(np.int64), at < 0)
        # ``rows_at`` already gives the stored columns and types: typed's copy of every column (a third of the
        # time of a batch) only when they differ.
        if [(c, str(t)) for c, t in rows.dtypes.items()] == list(stored_columns.items()):
            return rows
        return typed(rows, stored_columns)

    return finished


def _on_cursor(con: duckdb.DuckDBPyConnection, sources: Sources, whole: Frames | None) -> duckdb.DuckDBPyConnection:
    """A cursor of ``con`` with the inputs as ``reads``' temporary views: the relations' SQL (tables of the
    database), or ``whole``'s frames when the inputs were handed over as frames; the session's time zone kept."""
    cursor = con.cursor()
    ((zone,),) = con.sql("select current_setting('TimeZone')").fetchall()
    cursor.execute(f"set TimeZone = '{zone}'")
    if whole is not None:
        mine = Sources(*(cursor.from_df(df) for df in (whole.interactions, whole.surveys, whole.customers)))
    else:
        mine = Sources(*(cursor.sql(r.sql_query()) for r in (sources.interactions, sources.surveys, sources.customers)))
    named(cursor, mine)
    return cursor


def full_prediction_rows(
    sources: Sources,
    con: duckdb.DuckDBPyConnection | None,
    whole: Frames | None,
    size: Extent,
    window_days: int,
    horizon_days: int,
    history_days: int | None,
    fingerprint: pd.Series,
    stored_columns: dict[str, str],
    batch_rows: int | None = None,
) -> pd.DataFrame | pa.RecordBatchReader:
    """``prediction_rows`` of the inputs ``sources`` (``size``: their extent; ``whole``: the same as frames, when
    handed over as such) with each customer's ``fingerprint`` (column ``stored_columns``' last), typed as
    ``stored_columns``: with ``con`` (the sources' connection), a reader of batches of customers, each read from
    DuckDB and computed as DuckDB reads it; else, or when the data cannot be cut by customer, one frame (module
    docstring)."""
    finished = _finisher(fingerprint, stored_columns)
    times = snapshot_times_between(size.start, size.end) if size.interactions else []
    if history_days is not None and times:
        times = recent_times(times, history_days)
    per_batch = batch_rows or configured_batch_rows()
    count = batch_count(sources, size, len(times), per_batch) if con is not None and times else 1
    if count == 1 or not batchable(sources):
        log.info("int_prediction_rows: computed in one batch (%s prediction times)", len(times))
        frames = whole if whole is not None else read_whole(sources)
        return finished(prediction_rows(frames, window_days, horizon_days, history_days))
    # Logged now: the batches are computed after the model returns, as DuckDB reads them.
    log.info(
        "int_prediction_rows: computed in %s batches of customers read from DuckDB (%s interactions, %s prediction "
        "times)",
        count,
        size.interactions,
        len(times),
    )
    schema = pa.Schema.from_pandas(typed(pd.DataFrame(columns=list(stored_columns)), stored_columns), False)
    schema = schema.remove_metadata()
    cursor = _on_cursor(con, sources, whole)

    def computed() -> Iterator[pa.RecordBatch]:
        try:
            # bounded's cut at the first time, in DuckDB: the times and the data's end are the whole data's.
            for batch in windows(cursor, times[0], window_days, count):
                if not len(batch.interactions) and not len(batch.customers):
                    continue  # no engagement, no CRM customer: no row (a hash batch can be empty)
                rows = stacked_rows_at(batch, times, window_days, horizon_days, size.end, per_batch)
                del batch
                record = pa.RecordBatch.from_pandas(finished(rows), schema=schema, preserve_index=False)
                del rows  # not held beside the next batch while DuckDB writes this one
                yield record
                del record
        finally:
            cursor.close()

    return pa.RecordBatchReader.from_batches(schema, computed())


__all__ = ["BATCH_ROWS", "batchable", "full_prediction_rows", "read_whole"]
