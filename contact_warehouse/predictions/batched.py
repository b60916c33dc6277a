"""``int_prediction_rows`` computed in full (first build, --full-refresh, the nightly's fall-back) in bounded memory,
by batches of customers (issue 22).

A customer's rows read only that customer's contacts, answers and CRM row when no engagement spans two customers
(the condition the nightly run already relies on: ``reads.of_customers``); the prediction times and the data's
end are the whole data's. So the rows of a batch of customers, computed from their inputs alone at every time, are
exactly their rows of the one-batch computation, and the table is the union of the batches.

The result is an Arrow ``RecordBatchReader`` whose batches are computed one at a time as DuckDB reads them:
dbt-duckdb registers what a Python model returns and runs ``create table ... as select * from`` it
(``py_write_table`` in its ``adapters.sql``), so each batch goes into the table and is freed before the next is
computed. What Python holds at once is the inputs and one batch (about ``BATCH_ROWS`` rows), whatever the history
and the customer count; DuckDB writes the table within its own memory limit. A relation over a temporary table
the batches are appended to would do the same with a second copy of every row and a table left until the
connection closes.

The physical order of the rows differs from the one-batch frame's (batch by batch): dbt's connections do not
preserve insertion order anyway (``engine/duckdb_settings.py``) and nothing reads the table by its order.

One batch (the plain frame) when the batches could differ from it: an engagement of two customers, a NULL
customer key (``coded`` then leaves the keys uncoded and such rows belong to no batch), or no connection to write
the batches to (the Python step off DuckDB).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from . import prediction_rows, typed
from .features import Frames
from .snapshots import bounded, recent_times, snapshot_times
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


def engagements_span_customers(frames: Frames) -> bool:
    """An engagement has contacts of two customers (or two without an engagement id): a customer's rows would then
    read another's contacts, so neither the nightly's per-customer comparison nor the batches can stand."""
    # One row per pair, then a repeated engagement: a fifth of a groupby's nunique at 500k contacts.
    pairs = frames.interactions[["engagement_id", "customer_key"]].drop_duplicates()
    return bool(pairs["engagement_id"].duplicated().any())


def _batchable(frames: Frames) -> bool:
    """Every row has a customer and an engagement id, and no engagement spans two customers: a batch's rows then
    read only its customers' inputs."""
    it, sv, cu = frames.interactions, frames.surveys, frames.customers
    if it["customer_key"].isna().any() or sv["customer_key"].isna().any() or cu["customer_key"].isna().any():
        return False
    return not it["engagement_id"].isna().any() and not engagements_span_customers(frames)


def _keys(frames: Frames) -> pd.Index:
    it, sv, cu = frames.interactions, frames.surveys, frames.customers
    return pd.Index(pd.concat([it["customer_key"], sv["customer_key"], cu["customer_key"]]).unique()).sort_values()


def _customer_batches(frames: Frames, keys: pd.Index, per_batch: int) -> Iterator[Frames]:
    """``frames`` cut into batches of at most ``per_batch`` of the customers ``keys`` (sorted), each with all of
    its customers' rows. A row's batch is found once (an integer per row), not by an ``isin`` per batch."""
    it, sv, cu = frames.interactions, frames.surveys, frames.customers
    of = [keys.get_indexer(df["customer_key"]) // per_batch for df in (it, sv, cu)]
    for b in range((len(keys) + per_batch - 1) // per_batch):
        yield Frames(it[of[0] == b], sv[of[1] == b], cu[of[2] == b])


def full_prediction_rows(
    frames: Frames,
    window_days: int,
    horizon_days: int,
    history_days: int | None,
    fingerprint: pd.Series,
    stored_columns: dict[str, str],
    streamed: bool,
    batch_rows: int | None = None,
) -> pd.DataFrame | pa.RecordBatchReader:
    """``prediction_rows`` of ``frames`` with each customer's ``fingerprint`` (column ``stored_columns``' last),
    typed as ``stored_columns``: with ``streamed``, a reader of batches of customers, each computed as DuckDB
    reads it; else, or when the data cannot be cut by customer, one frame (module docstring)."""
    fingerprint_column = list(stored_columns)[-1]

    def finished(rows: pd.DataFrame) -> pd.DataFrame:
        # The fingerprint by position, not ``map``: a missing key would make map's result float and round every
        # 64-bit hash.
        at = fingerprint.index.get_indexer(rows["customer_key"]) if len(fingerprint) else np.full(len(rows), -1)
        values = fingerprint.to_numpy(dtype=np.int64)[np.maximum(at, 0)] if len(fingerprint) else np.zeros(len(rows))
        rows[fingerprint_column] = pd.arrays.IntegerArray(values.astype(np.int64), at < 0)
        # ``rows_at`` already gives the stored columns and types: typed's copy of every column (a third of the
        # time of a batch) only when they differ.
        if [(c, str(t)) for c, t in rows.dtypes.items()] == list(stored_columns.items()):
            return rows
        return typed(rows, stored_columns)

    times = snapshot_times(frames) if len(frames.interactions) else []
    if history_days is not None and times:
        times = recent_times(times, history_days)
    per_batch = max(1, (batch_rows or configured_batch_rows()) // max(1, len(times)))
    one = not streamed or not times or not _batchable(frames)
    keys = None if one else _keys(frames)
    if keys is None or len(keys) <= per_batch:
        log.info("int_prediction_rows: computed in one batch (%s prediction times)", len(times))
        return finished(prediction_rows(frames, window_days, horizon_days, history_days))
    data_end = frames.data_end
    # Logged now: the batches are computed after the model returns, as DuckDB reads them.
    log.info(
        "int_prediction_rows: computed in %s batches of at most %s customers (%s customers, %s prediction times)",
        -(-len(keys) // per_batch),
        per_batch,
        len(keys),
        len(times),
    )

    def computed(batch: Frames) -> pd.DataFrame:
        # The times and the data's end are the whole data's; the history read is bounded per customer. All the
        # times in a few pandas passes over time-shifted copies, each cut to what its time reads (stacked.py).
        rows = stacked_rows_at(
            bounded(batch, times[0], window_days), times, window_days, horizon_days, data_end, configured_batch_rows()
        )
        return finished(rows)

    parts = _customer_batches(frames, keys, per_batch)
    first = pa.RecordBatch.from_pandas(computed(next(parts)), preserve_index=False)
    # Every batch in the first's schema (the stored columns' types, ``finished``), stated rather than inferred.
    rest = (pa.RecordBatch.from_pandas(computed(b), schema=first.schema, preserve_index=False) for b in parts)
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], rest))


__all__ = ["BATCH_ROWS", "full_prediction_rows"]
