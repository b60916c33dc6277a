"""What the nightly ``int_prediction_rows`` reads of its inputs into pandas, cut in DuckDB (issue 22).

The nightly run (incremental.py) needs the whole history only for the fingerprints, which DuckDB hashes
(fingerprints.py). Into pandas it reads: for the new prediction times, every customer's history as ``bounded``
keeps it (the interactions of the last 30 days, or the engagement window, before the first new time, and every
contact of an engagement among them), with what ``bounded`` sums of the rest per customer computed here; for the
customers recomputed at the kept times, their whole inputs; for the relabelling, the customer-initiated contacts
of the open horizons. Each is cut by a query over the inputs (temporary views of the model's connection) and
normalized as ``frames_from`` normalizes the whole read, so the pandas code computes from the same values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from . import frames_from
from .features import DAY, Frames
from .fingerprints import Sources

IT, SV, CU = "__prediction_rows_interactions", "__prediction_rows_surveys", "__prediction_rows_customers"
KEYS = "__prediction_rows_keys"


def literal(t: pd.Timestamp) -> str:
    return f"timestamp '{pd.Timestamp(t).isoformat(sep=' ')}'"


@dataclass(frozen=True)
class Extent:
    """The interactions' count, first start and last end (the data's start and end)."""

    interactions: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None


def named(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    """The three inputs as temporary views ``IT``, ``SV``, ``CU`` of ``con`` (their relations' connection).
    Registered, not ``create_view``: that makes a view of the database (DuckDB 2.0), which would outlive the run in
    the warehouse."""
    for name, relation in ((IT, sources.interactions), (SV, sources.surveys), (CU, sources.customers)):
        con.register(name, relation)


def extent(sources: Sources) -> Extent:
    ((n, start, end),) = sources.interactions.aggregate("count(*), min(started_at), max(ended_at)").fetchall()
    return Extent(int(n), pd.Timestamp(start) if start is not None else None, pd.Timestamp(end) if end else None)


def _frames(con: duckdb.DuckDBPyConnection, interactions: str, surveys: str, customers: str) -> Frames:
    return frames_from(con.sql(interactions).df(), con.sql(surveys).df(), con.sql(customers).df())


def batches(con: duckdb.DuckDBPyConnection, interactions: int, times: int, batch_rows: int) -> int:
    """How many batches of customers the new times are computed in: enough for at most about ``batch_rows`` rows
    (customers x ``times``) and ``batch_rows`` interactions read a batch (batched.py's bound, applied to the
    inputs too); one when a NULL customer key leaves rows in no customer's batch."""
    ((customers, nulls),) = con.sql(
        f"""select count(*), count(*) filter (customer_key is null)
                + (select count(*) from {IT} where customer_key is null)
                + (select count(*) from {SV} where customer_key is null)
            from {CU}"""
    ).fetchall()
    return 1 if nulls else batch_bound(customers, interactions, times, batch_rows)


def batch_bound(customers: int, interactions: int, times: int, batch_rows: int) -> int:
    """Enough batches of customers for about ``batch_rows`` rows (``customers`` x ``times``) and at most about
    ``batch_rows`` of the ``interactions`` read a batch: the bound of the nightly's and the full computation's
    batches (``batches``, batched.py)."""
    return max(1, -(-customers * times // batch_rows), -(-interactions // batch_rows))


def _window_queries(first: pd.Timestamp, window_days: int, mine: str) -> dict[str, str]:
    """``window``'s queries over the inputs, of the customers meeting ``mine``: the interactions ``bounded`` keeps,
    the answers and customers whole, and its per-customer ``earlier``."""
    cut = literal(first - max(30, window_days) * DAY)
    recent = f"(coalesce(ended_at > {cut}, false) or coalesce(started_at > {cut}, false))"
    # coalesce: a row without an engagement id is kept when recent, else summed in ``earlier`` (never neither).
    engaged = f"select engagement_id from {IT} where {recent} and engagement_id is not null"
    kept = f"({recent} or coalesce(engagement_id in ({engaged}), false))"
    return {
        "interactions": f"select * from {IT} where {mine} and {kept}",
        "surveys": f"select * from {SV} where {mine}",
        "customers": f"select * from {CU} where {mine}",
        "earlier": f"""select customer_key,
                sum(case when coalesce(is_customer_initiated, false) then 1.0 else 0.0 end) as contacts,
                max(ended_at) as last_ended_at
            from {IT} where {mine} and not {kept} group by customer_key""",
    }


def _batch_of(count: int) -> str:
    """The batch (0 to ``count`` - 1) of a row's customer: a hash of the key, the same in the three inputs."""
    return f"hash(customer_key) % {count}"


def window(
    con: duckdb.DuckDBPyConnection, first: pd.Timestamp, window_days: int, batch: tuple[int, int] = (0, 1)
) -> Frames:
    """``bounded(frames, first, window_days)`` of the whole inputs, value for value, read as such: the interactions
    it keeps, the answers and customers whole, and its per-customer ``earlier`` (None when it drops nothing). With
    ``batch`` (b, n), of the customers of the b-th of n batches (by a hash of their key) only: no engagement spans
    two customers (checked first), so their rows read nothing else. Every batch in turn: ``windows``.

    The keys arrive coded (``Frames.codes``) when none is NULL: DuckDB numbers the customer keys and engagement ids
    in their sorted order, as ``snapshots.coded`` does, and the interaction ids by their rank (they only order the
    contacts), so pandas never holds the 64-character strings per row (reading and coding them was a third of a
    nightly batch's time, issue 22)."""
    b, n = batch
    mine = "true" if n == 1 else f"{_batch_of(n)} = {b}"
    return _with_earlier(*_read_window(con, _window_queries(first, window_days, mine)))


SPLIT = "__prediction_rows_split_"  # ``windows``' temporary tables: every batch's rows, by the query's name
BATCH = "__prediction_rows_batch"


def windows(con: duckdb.DuckDBPyConnection, first: pd.Timestamp, window_days: int, count: int) -> Iterator[Frames]:
    """``window(con, first, window_days, (b, count))`` for each batch b in turn, value for value, from one pass over
    the inputs: each of ``window``'s queries runs once over every customer into a temporary table stored in the order
    of its rows' batch, and a batch reads its rows there (the other batches' row groups skipped by their min and max
    batch). Reading every batch from the inputs scanned, hashed and cut the whole inputs once per batch: at 10M
    events 25 s of the full build's 18 batches, 11 s from the split (issue 22). Up to two batches (a night's new
    times) read the inputs directly: there the split costs what it saves (6.2 against 5.6 s at 10M events)."""
    if count <= 2:
        for b in range(count):
            yield window(con, first, window_days, (b, count))
        return
    queries = _window_queries(first, window_days, "true")
    split = {name: f"{SPLIT}{name}" for name in queries}
    try:
        for name, query in queries.items():
            con.execute(
                f"create or replace temp table {split[name]} as "
                f"select *, {_batch_of(count)} as {BATCH} from ({query}) order by {BATCH}"
            )
        for b in range(count):
            mine = {name: f"select * exclude ({BATCH}) from {split[name]} where {BATCH} = {b}" for name in queries}
            yield _with_earlier(*_read_window(con, mine))
    finally:
        for table in split.values():
            con.execute(f"drop table if exists {table}")


def _with_earlier(frames: Frames, earlier: pd.DataFrame) -> Frames:
    """``frames`` with ``earlier`` typed as ``bounded`` types it (None when it is empty)."""
    if not len(earlier):
        return frames
    earlier["contacts"] = earlier["contacts"].astype(float)
    earlier["last_ended_at"] = pd.to_datetime(earlier["last_ended_at"]).astype(frames.interactions["ended_at"].dtype)
    return replace(frames, earlier=earlier)


WINDOW = "__prediction_rows_window_"  # the temporary tables of one ``window`` read, by the query's name


def _read_window(con: duckdb.DuckDBPyConnection, queries: dict[str, str]) -> tuple[Frames, pd.DataFrame]:
    """The frames of ``window``'s queries and its ``earlier``, each query run once into a temporary table; the
    keys coded (``Frames.codes``: codes from 0 in the keys' sorted order, DuckDB's byte order being Python's code
    point order for UTF-8) unless one is NULL (``snapshots.coded`` leaves the keys uncoded then)."""
    tables = {name: f"{WINDOW}{name}" for name in (*queries, "customer_codes", "engagement_codes")}
    try:
        for name, query in queries.items():
            con.execute(f"create or replace temp table {tables[name]} as {query}")
        every = " union ".join(f"select customer_key from {tables[name]}" for name in queries)
        con.execute(
            f"create or replace temp table {tables['customer_codes']} as select customer_key, "
            f"dense_rank() over (order by customer_key) - 1 as code from ({every})"
        )
        con.execute(
            f"create or replace temp table {tables['engagement_codes']} as select engagement_id, "
            f"dense_rank() over (order by engagement_id) - 1 as code "
            f"from (select distinct engagement_id from {tables['interactions']})"
        )
        ((nulls,),) = con.sql(
            f"select (select count(*) from {tables['customer_codes']} where customer_key is null) "
            f"+ (select count(*) from {tables['engagement_codes']} where engagement_id is null)"
        ).fetchall()

        def read(name: str, order: str = "") -> pd.DataFrame:
            if nulls:
                return con.sql(f"select * from {tables[name]} r{order}").df()
            joins = f" join {tables['customer_codes']} c on r.customer_key = c.customer_key"
            codes = ["c.code as customer_key"]
            if name == "interactions":
                joins += f" join {tables['engagement_codes']} e on r.engagement_id = e.engagement_id"
                # The id only orders the contacts (frames_from): its rank orders them the same, without a string.
                codes += ["e.code as engagement_id", "row_number() over (order by r.interaction_id) as interaction_id"]
            return con.sql(f"select r.* replace ({', '.join(codes)}) from {tables[name]} r{joins}{order}").df()

        # In the contacts' order, frames_from's: no re-sort.
        frames = frames_from(read("interactions", " order by r.interaction_id"), read("surveys"), read("customers"))
        if not nulls:
            keys = [
                con.sql(f"select {key} from {tables[table]} order by code").df()[key].to_numpy(dtype=object)
                for key, table in (("customer_key", "customer_codes"), ("engagement_id", "engagement_codes"))
            ]
            frames = replace(frames, codes=(keys[0], keys[1]))
        return frames, read("earlier")
    finally:
        for table in tables.values():
            con.execute(f"drop table if exists {table}")


def of_customers(con: duckdb.DuckDBPyConnection, keys: pd.Index) -> Frames:
    """The whole inputs of the customers ``keys``: their rows read nothing of anybody else's (one customer per
    engagement, which the nightly run checks first)."""
    con.register(KEYS, pd.DataFrame({"customer_key": keys.to_numpy(dtype=object)}))
    mine = f"customer_key in (select customer_key from {KEYS})"
    try:
        return _frames(
            con,
            f"select * from {IT} where {mine} order by interaction_id",
            f"select * from {SV} where {mine}",
            f"select * from {CU} where {mine}",
        )
    finally:
        con.unregister(KEYS)


def straddling(con: duckdb.DuckDBPyConnection, last: pd.Timestamp) -> pd.Index:
    """The customers of a customer-initiated contact that started by ``last`` but ended after it."""
    at = literal(last)
    rows = con.sql(
        f"select distinct customer_key from {IT} where coalesce(is_customer_initiated, false) "
        f"and started_at <= {at} and ended_at > {at} and customer_key is not null"
    ).fetchall()
    return pd.Index([key for (key,) in rows], dtype=object)


def demand(con: duckdb.DuckDBPyConnection, since: pd.Timestamp, straddled: str, first_kept: pd.Timestamp) -> str:
    """The query of the customer-initiated contacts (customer_key, intent, started_at) that started after ``since``,
    or after ``first_kept`` for the customers in the table ``straddled``: what the relabelling reads."""
    return (
        f"select customer_key, cast(intent as varchar) as intent, started_at from {IT} "
        f"where coalesce(is_customer_initiated, false) and (started_at > {literal(since)} or (started_at > "
        f"{literal(first_kept)} and customer_key in (select customer_key from {straddled})))"
    )


__all__ = ["Extent", "batches", "demand", "extent", "named", "of_customers", "straddling", "window", "windows"]
