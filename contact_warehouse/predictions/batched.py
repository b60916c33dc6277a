"""``int_prediction_rows`` computed in full (first build, --full-refresh, the nightly's fall-back) in bounded memory,
by batches of customers (issue 22).

A customer's rows read only that customer's contacts, answers and CRM row when no engagement spans two customers
(the condition the nightly run already relies on: ``incremental.restricted``); the prediction times and the data's
end are the whole data's. So the rows of a batch of customers, computed from their inputs alone at every time, are
exactly their rows of the one-batch computation, and the table is the union of the batches. Each batch's rows go
into a DuckDB temporary table as soon as they are computed and are freed: what Python holds at once is one batch
(about ``batch_rows`` rows), whatever the history and the customer count; DuckDB spills the table beyond its memory
limit. The result is a relation over that table, which dbt-duckdb makes the model's table (it accepts a relation
from a Python model and runs ``create table ... as select * from`` it on the model's connection).

The physical order of the rows differs from the one-batch frame's (batch by batch): dbt's connections do not
preserve insertion order anyway (``engine/duckdb_settings.py``) and nothing reads the table by its order.

One batch (the plain frame) when the batches could differ from it: an engagement of two customers, a NULL
customer key (``coded`` then leaves the keys uncoded and such rows belong to no batch), or no connection to write
the batches to (the Python step off DuckDB).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import duckdb
import pandas as pd

from . import prediction_rows, rows_at, typed
from .features import Frames
from .snapshots import bounded, recent_times, snapshot_times

log = logging.getLogger(__name__)

# About this many rows per batch (customers x prediction times): ~800 bytes a row while a batch is assembled and
# typed (measured at 1.5M rows: 1.2 GiB peak), so ~0.4 GiB for a batch, well under issue 22's 4 GiB with the inputs.
BATCH_ROWS = 500_000
TABLE = "__prediction_rows_full"


def _batchable(frames: Frames) -> bool:
    """Every row has a customer and no engagement spans two: a batch's rows then read only its customers' inputs."""
    it, sv, cu = frames.interactions, frames.surveys, frames.customers
    if it["customer_key"].isna().any() or sv["customer_key"].isna().any() or cu["customer_key"].isna().any():
        return False
    pairs = it[["engagement_id", "customer_key"]].drop_duplicates()
    return not pairs["engagement_id"].isna().any() and not pairs["engagement_id"].duplicated().any()


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
    con: duckdb.DuckDBPyConnection | None,
    batch_rows: int | None = None,
) -> pd.DataFrame | duckdb.DuckDBPyRelation:
    """``prediction_rows`` of ``frames`` with each customer's ``fingerprint`` (column ``stored_columns``' last),
    typed as ``stored_columns``: by batches of customers into a temporary table of ``con`` (a relation over it),
    or one frame when ``con`` is None or the data cannot be cut by customer (module docstring)."""
    fingerprint_column = list(stored_columns)[-1]

    def finished(rows: pd.DataFrame) -> pd.DataFrame:
        rows[fingerprint_column] = rows["customer_key"].map(fingerprint)
        return typed(rows, stored_columns)

    times = snapshot_times(frames) if len(frames.interactions) else []
    if history_days is not None and times:
        times = recent_times(times, history_days)
    per_batch = max(1, (BATCH_ROWS if batch_rows is None else batch_rows) // max(1, len(times)))
    one = con is None or not times or not _batchable(frames)
    keys = None if one else _keys(frames)
    if keys is None or len(keys) <= per_batch:
        log.info("int_prediction_rows: computed in one batch (%s prediction times)", len(times))
        return finished(prediction_rows(frames, window_days, horizon_days, history_days))
    data_end = frames.data_end
    con.execute(f"drop table if exists temp.{TABLE}")
    batches = 0
    for batch in _customer_batches(frames, keys, per_batch):
        # The times and the data's end are the whole data's; the bound of the history read is per customer.
        rows = finished(rows_at(bounded(batch, times[0], window_days), times, window_days, horizon_days, data_end))
        con.register("__prediction_rows_batch", rows)
        if batches == 0:
            con.execute(f"create temp table {TABLE} as select * from __prediction_rows_batch")
        else:
            con.execute(f"insert into temp.{TABLE} select * from __prediction_rows_batch")
        con.unregister("__prediction_rows_batch")
        batches += 1
        del rows
    log.info(
        "int_prediction_rows: computed in %s batches of at most %s customers (%s prediction times)",
        batches,
        per_batch,
        len(times),
    )
    return con.sql(f"select * from temp.{TABLE}")


__all__ = ["BATCH_ROWS", "full_prediction_rows"]
