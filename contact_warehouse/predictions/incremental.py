"""``int_prediction_rows`` on a nightly run, from last night's table: equal to a rebuild row for row (issue 22).

A row at prediction time ``t`` reads, for its features, only what was known by ``t`` (interactions ended by ``t``,
answers given by ``t``, the customer's CRM row) and, for its label, what happened in ``(t, t + horizon]``
(features.py, snapshots.py). So once a night's data end moves from ``E`` (last night's, the previous table's last
prediction time) to a later one, a customer whose inputs as known at ``E`` are unchanged keeps every row of every
time up to ``E``; only the labels whose horizon was still open at ``E`` (``t + horizon > E``) and every row's
``label_known`` can change. What a run computes:

- the new prediction times (after ``E``), for every customer;
- every time up to ``E`` for the customers whose inputs as known at ``E`` changed (a late correction, a
  re-delivered contact, a CRM change, a merge that re-keys them), found by comparing a per-customer fingerprint of
  those inputs (fingerprints.py, hashed by DuckDB) with the one stored on their rows last night
  (``_input_fingerprint``); a key that vanished has nothing to compare with and loses its rows;
- in SQL, over last night's table: the kept rows whose label (where the horizon was open) or ``label_known``
  changes.

The result is a change set, not the table (``nightly_prediction_rows``): those rows, to insert or to replace the
row of the same key, and instructions: delete the rows of the customers not kept and of the times not kept (fallen
out of ``prediction_history_days``, and the previous end, not a midnight), set the fingerprint of the kept
customers whose inputs grew. The dbt strategy ``prediction_changes`` applies it inside the table
(``dbt_project/macros/incremental_prediction_changes.sql``; ``strategy.py`` renders it for the bench and tests), so
a night writes what changed, not every row.

What goes into pandas is what is computed from (reads.py): the history the new times' features read, by batches of
customers, and the whole inputs of the recomputed customers; the whole history stays in DuckDB, which hashes it
(issue 22: the night's cost and memory follow the night, not the history).

A change of the window, the horizon, the history bound or the data's start changes every fingerprint (they are
hashed in): the run is then a full recompute, as it is without a previous table, with a
previous table of another shape, or when an engagement spans two customers (the rows of a customer would then read
another's contacts, which the per-customer comparison cannot see).
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from contact_warehouse.engine.duckdb_settings import python_model_memory_limit, release_cache

from . import ROW_COLUMNS, rows_at, typed
from .batched import configured_batch_rows, full_prediction_rows
from .features import DAY, NO_INTENT, Frames
from .fingerprints import (
    FINGERPRINT,
    Fingerprinted,
    Sources,
    engagements_span_customers,
    fingerprinted,
    fingerprints,
    sources_of,
)
from .reads import CU, batches, demand, extent, named, of_customers, straddling, windows
from .snapshots import bounded, recent_times, snapshot_times_between
from .stacked import stacked_rows_at

log = logging.getLogger(__name__)
STORED_ROW_COLUMNS = {**ROW_COLUMNS, FINGERPRINT: "Int64"}
# The change set's instructions to the strategy (macros/incremental_prediction_changes.sql), rows whose model_name
# is none of the models': delete a customer's rows, delete a time's rows, set a customer's fingerprint, and the
# marker that the result is a change set, not a whole table.
DELETE_CUSTOMER, DELETE_TIME, SET_FINGERPRINT, CHANGES = (
    "__delete_customer",
    "__delete_time",
    "__set_fingerprint",
    "__changes",
)


def directive(kind: str, customer_key=None, snapshot_at=None, fingerprint=None) -> pd.DataFrame:
    """Rows of the instruction ``kind`` (one per customer_key or snapshot_at given; one without either)."""
    values = {"customer_key": customer_key, "snapshot_at": snapshot_at, FINGERPRINT: fingerprint}
    values = {k: list(v) for k, v in values.items() if v is not None}
    n = max((len(v) for v in values.values()), default=1)
    return typed(pd.DataFrame({"model_name": [kind] * n, **values}), STORED_ROW_COLUMNS)


def as_arrow(rows: pd.DataFrame) -> pa.Table:
    """Prediction rows with exactly the table's columns and types (``typed``), as Arrow: DuckDB reads them while it
    makes the change set a table, and Arrow's strings take a fraction of the memory of pandas' string objects."""
    return pa.Table.from_pandas(typed(rows, ROW_COLUMNS), preserve_index=False)


def previous_times(con: duckdb.DuckDBPyConnection, previous: str) -> list[pd.Timestamp]:
    """Last night's prediction times, sorted: the last is last night's data end."""
    ((times,),) = con.sql(f"select list(distinct snapshot_at order by snapshot_at) from {previous}").fetchall()
    return [pd.Timestamp(t) for t in times or []]


# The per-customer comparison of tonight's fingerprints with last night's stored ones (``compared``).
STATUS = "__prediction_rows_status"


def compared(con: duckdb.DuckDBPyConnection, previous: str, now: Fingerprinted) -> duckdb.DuckDBPyRelation:
    """Per customer key with a fingerprint at last night's end (``now``'s cut-off 0), tonight (cut-off 1) or stored
    on last night's rows (``stored_fingerprints``: the one all their rows carry), a row of the temporary table
    ``STATUS``: customer_key, at_last, now, stored (NULL where none), and what follows: ``unchanged`` (the same
    at last night's end as stored), ``changed`` (another), ``new_key`` (one at last night's end, none stored),
    ``gone`` (stored, none at last night's end), ``in_stored``. Compared in DuckDB, not on string indexes in pandas:
    at 10M events (~700k keys) each pandas index operation on the keys cost tenths of a second (issue 22)."""
    tonight = now.present[1]
    at_last = pd.array(now.values[0], dtype="Int64")
    at_last[~now.present[0]] = pd.NA
    con.register(
        "__prediction_rows_fingerprints",
        pd.DataFrame({"customer_key": now.keys[tonight], "at_last": at_last[tonight], "now": now.values[1][tonight]}),
    )
    con.execute(
        f"""create or replace temp table {STATUS} as
        with stored as (
            select customer_key, min({FINGERPRINT}) as stored from {previous}
            group by customer_key having min({FINGERPRINT}) = max({FINGERPRINT})
        ), joined as (
            select coalesce(f.customer_key, s.customer_key) as customer_key, f.at_last, f.now, s.stored,
                s.stored is not null as in_stored, f.at_last is not null as in_last
            from __prediction_rows_fingerprints as f full outer join stored as s on f.customer_key = s.customer_key
        )
        select *, in_last and in_stored and at_last = stored as unchanged,
            in_last and in_stored and at_last <> stored as changed,
            in_last and not in_stored as new_key, in_stored and not in_last as gone
        from joined"""
    )
    con.unregister("__prediction_rows_fingerprints")
    return con.table(STATUS)


def _keys(status: duckdb.DuckDBPyRelation, condition: str) -> pd.Index:
    """The customer keys of ``status`` meeting ``condition``, sorted."""
    keys = status.filter(condition).project("customer_key").order("customer_key").df()["customer_key"]
    return pd.Index(keys.to_numpy(dtype=object), dtype=object, name="customer_key")


def _first_time_from(times: np.ndarray, stamps: pd.Series) -> np.ndarray:
    """Per stamp, the first of the sorted ``times`` at or after it (NaT when none)."""
    at = np.searchsorted(times, stamps.to_numpy(dtype="datetime64[us]"), side="left")
    padded = np.r_[times, np.array(["NaT"], dtype="datetime64[us]")]
    return np.where(stamps.isna().to_numpy(), np.datetime64("NaT"), padded[np.minimum(at, len(times))])


def may_have_rows(frames: Frames, customers: pd.Index, times: list[pd.Timestamp], window_days: int) -> pd.Index:
    """Those of ``customers`` who can have a row at one of ``times`` (sorted) by the rules of snapshots.py: a CRM
    customer created by one of them and not churned by it (a churn row), or an engagement with a
    customer-initiated contact known at one of them before a resolving one, and a contact less than the window
    before it (an open engagement). Necessary conditions only: the others certainly have no row at those times,
    whatever their inputs were last night, so a customer without rows last night need not be recomputed."""
    at = np.array(times, dtype="datetime64[us]")
    cu = frames.customers[frames.customers["customer_key"].isin(customers)]
    crm = cu[cu["customer_ref"].notna() & cu["crm_created_at"].notna()]
    first = _first_time_from(at, crm["crm_created_at"])
    churned = crm["churned_at"].to_numpy(dtype="datetime64[us]")
    alive = ~np.isnat(first) & (np.isnat(churned) | (first < churned))
    it = frames.interactions
    it = it[it["customer_key"].isin(customers) & ~it["intent"].isin(NO_INTENT)]
    g = pd.DataFrame(
        {
            "engagement_id": it["engagement_id"],
            "customer_key": it["customer_key"],
            "ended_at": it["ended_at"],
            "initiated_at": it["ended_at"].where(it["is_customer_initiated"]),
            "resolved_at": it["ended_at"].where(it["is_resolved"]),
        }
    ).groupby("engagement_id")
    eng = g.agg(
        customer_key=("customer_key", "first"),
        last_ended=("ended_at", "max"),
        initiated=("initiated_at", "min"),
        resolved=("resolved_at", "min"),
    )
    first = _first_time_from(at, eng["initiated"])
    until = (eng["last_ended"] + window_days * DAY).to_numpy(dtype="datetime64[us]")
    resolved = eng["resolved"].to_numpy(dtype="datetime64[us]")
    until = np.where(np.isnat(resolved), until, np.minimum(until, resolved))
    open_once = ~np.isnat(first) & (first < until)
    return pd.Index(crm.loc[alive, "customer_key"]).union(pd.Index(eng.loc[open_once, "customer_key"])).unique()


def relabelled_rows_sql(
    previous: str,
    columns: list[str],
    kept_times: list[pd.Timestamp],
    open_after: pd.Timestamp,
    data_end: pd.Timestamp,
    keep: str,
    churn: str,
    demand: str,
    longest_horizon_days: int | None = None,
) -> str:
    """Those of last night's rows of the customers in ``keep`` (customer_key, fingerprint: their new one,
    relabel_all) at ``kept_times`` whose ``label`` or ``label_known`` changes, with the new values: ``label``
    recomputed where the horizon ended after ``open_after``, and at every time for the repeat-contact rows of the
    customers marked relabel_all (the rule of snapshots.py's ``churn_rows`` and ``repeat_rows``, over ``churn``:
    customer_key, churned_at, and ``demand``: the customer-initiated contacts' customer_key, intent, started_at),
    and ``label_known`` against ``data_end``. Every other kept row stays as it is in the table.

    ``longest_horizon_days``: no row's ``horizon_days`` is longer (the run's window and horizon, hashed into every
    fingerprint, so last night's rows have them). The open rows are then also cut by a constant bound on
    ``snapshot_at``, which DuckDB applies in the scan of the table: the query reads the rows of the last horizon's
    times, not every kept row, and its cost stops growing with the history (issue 22)."""
    horizon_end = "p.snapshot_at + to_days(cast(p.horizon_days as integer))"
    times = ", ".join(f"timestamp '{t.isoformat(sep=' ')}'" for t in kept_times)
    is_open = f"{horizon_end} > timestamp '{open_after.isoformat(sep=' ')}'"
    known = f"{horizon_end} <= timestamp '{data_end.isoformat(sep=' ')}'"
    churn_label = f"coalesce(c.churned_at > p.snapshot_at and c.churned_at <= {horizon_end}, false)"
    repeat_label = f"""exists (
                select 1 from {demand} as d
                where d.customer_key = p.customer_key and d.intent = p.intent
                    and d.started_at > p.snapshot_at and d.started_at <= {horizon_end})"""

    replaced = {"label": "new_label as label", "label_known": "new_known as label_known"}
    replaced[FINGERPRINT] = f"new_fingerprint as {FINGERPRINT}"
    outer = ", ".join(replaced.get(c, c) for c in columns)
    rows = f"from {previous} as p inner join {keep} as k on p.customer_key = k.customer_key"
    kept = f"p.snapshot_at in ({times})"
    if longest_horizon_days is not None:
        # Implied by is_open for every row (none has a longer horizon); a constant comparison, pushed into the scan.
        bound = open_after - longest_horizon_days * DAY
        is_open = f"p.snapshot_at > timestamp '{bound.isoformat(sep=' ')}' and {is_open}"
    # Only the rows whose horizon was open (a few days of times) and, apart, the repeat-contact rows of the few
    # customers marked relabel_all are read; only those whose values change are returned (and rewritten in the
    # table). Two disjoint branches for the repeat-contact rows, so that the open ones' bound reaches the scan.
    select = f"select p.*, {repeat_label} as new_label, {known} as new_known, k.{FINGERPRINT} as new_fingerprint"
    # Of the open churn rows, only those whose values can change are joined (a tenth or less of them: at 10M events
    # the two joins over every open churn row were most of the change set's cost, DECISIONS.md "The relabelling
    # reads only the churn rows that can change"). A kept customer's churn up to ``open_after`` is in the
    # fingerprint that kept them, the same as when the row was labelled; so a row's label can change only when it
    # was true (the churn counted moved or vanished) or the customer's churn now is after ``open_after`` (a churn
    # that did not count may now), and its ``label_known`` only when its horizon ends by ``data_end``.
    churned_since = f"select customer_key from {churn} where churned_at > timestamp '{open_after.isoformat(sep=' ')}'"
    may_change = f"(p.label or {known} or p.customer_key in ({churned_since}))"
    return f"""
        select {outer} from (
            select p.*, {churn_label} as new_label, {known} as new_known, k.{FINGERPRINT} as new_fingerprint
            from (
                select * from {previous} as p
                where {kept} and p.model_name = 'churn' and {is_open} and {may_change}
            ) as p inner join {keep} as k on p.customer_key = k.customer_key
            left join {churn} as c on p.customer_key = c.customer_key
            union all
            {select} {rows} where {kept} and p.model_name <> 'churn' and {is_open}
            union all
            {select} from {previous} as p inner join (select * from {keep} where relabel_all) as k
                on p.customer_key = k.customer_key
            where {kept} and p.model_name <> 'churn' and not coalesce({is_open}, false)
        ) where new_label is distinct from label or new_known is distinct from label_known
    """


def _same_shape(con: duckdb.DuckDBPyConnection, previous: str) -> bool:
    """Last night's table has the columns and types this code writes (else: full recompute)."""
    expected = {"string": "VARCHAR", "datetime64[us]": "TIMESTAMP", "Int64": "BIGINT", "float64": "DOUBLE"}
    expected["boolean"] = "BOOLEAN"
    relation = con.sql(f"select * from {previous}")
    return [(c, str(t)) for c, t in zip(relation.columns, relation.types, strict=True)] == [
        (c, expected[d]) for c, d in STORED_ROW_COLUMNS.items()
    ]


def _table_exists(con: duckdb.DuckDBPyConnection, previous: str) -> bool:
    try:
        con.sql(f"select 1 from {previous} limit 0")
    except duckdb.CatalogException:
        return False
    return True


def nightly_prediction_rows(
    inputs: Frames | Sources,
    window_days: int,
    horizon_days: int,
    history_days: int | None,
    con: duckdb.DuckDBPyConnection | None,
    previous: str | None,
) -> pd.DataFrame | pa.RecordBatchReader | duckdb.DuckDBPyRelation:
    """``int_prediction_rows`` with its fingerprints: ``prediction_rows`` of the inputs, row for row, computed from
    the table ``previous`` (last night's, a table of ``con``; None: none, or a full refresh) as the module
    docstring says, or in full when it cannot be (no usable previous table, a parameter or the data's start
    changed, an engagement of two customers). The incremental result is the change set (module docstring), a
    relation of ``con`` that reads ``previous``: make it a table before changing ``previous``; the full one the
    whole table: with ``con`` (dbt-duckdb's model) a reader of batches of customers computed as they are read
    (bounded memory, batched.py), without it a frame. Logs which it computed, why, and how much.

    ``inputs``: the three relations (the dbt model's, of ``con``; the Python step's without ``con``), or frames (the
    bench and the tests: handed to DuckDB as relations). The fingerprints and the choice between incremental and
    full are made in DuckDB; a nightly run reads into pandas what it computes from (reads.py), a full recompute one
    batch of customers at a time (batched.py: the whole inputs only when they fit one batch or without ``con``)."""
    if isinstance(inputs, Frames):
        sources = sources_of(inputs, con)
        whole: Frames | None = inputs
    else:
        sources, whole = inputs, None
    size = extent(sources)
    tag = f"window={window_days};horizon={horizon_days};history={history_days};start={size.start}"
    data_end = size.end

    def full(reason: str) -> pd.DataFrame | pa.RecordBatchReader:
        log.info("int_prediction_rows: full recompute: %s", reason)
        (now,) = fingerprints(sources, [data_end], tag) if size.interactions else [pd.Series(dtype=np.int64)]
        # With con (dbt-duckdb's model): batches read from DuckDB as they are written; without, one frame.
        args = (window_days, horizon_days, history_days, now, STORED_ROW_COLUMNS)
        return full_prediction_rows(sources, con, whole, size, *args)

    if previous is None:
        return full("no previous table (first build or --full-refresh)")
    if not size.interactions:
        return full("no interactions")
    if not _table_exists(con, previous):
        return full(f"the previous table {previous} does not exist")
    if not _same_shape(con, previous):
        return full(f"the previous table {previous} has other columns or types than this code writes")
    if engagements_span_customers(sources):
        return full("an engagement spans two customers (a customer's rows would read another's contacts)")
    times_before = previous_times(con, previous)
    last = times_before[-1] if times_before else None
    if last is None or last > data_end:
        return full("the previous table has no prediction time at or before the data's end")
    status = compared(con, previous, fingerprinted(sources, [last, data_end], tag))
    ((unchanged, gone),) = status.aggregate("count(*) filter (unchanged), count(*) filter (gone)").fetchall()
    if not unchanged:
        return full(
            "no customer's inputs are as last night's (a changed window, horizon, history bound or data start "
            "changes every fingerprint)"
        )

    named(con, sources)
    times = snapshot_times_between(size.start, data_end)
    times = recent_times(times, history_days) if history_days is not None else times
    kept, new = [t for t in times if t <= last], [t for t in times if t > last]
    # Changed: their fingerprint differs (or their key is new to last night's table and they can have a row then).
    changed = _keys(status, "changed")
    new_keys = _keys(status, "new_key")
    if kept and len(new_keys):
        changed = changed.union(may_have_rows(of_customers(con, new_keys), new_keys, kept, window_days))
    log.info(
        "int_prediction_rows: incremental from %s (last night's end %s): %s customers kept, %s recomputed at the "
        "%s kept times, %s gone; %s new prediction times computed for every customer, %s times dropped",
        previous,
        last,
        unchanged,
        len(changed),
        len(kept),
        gone,
        len(new),
        len(set(times_before) - set(kept)),
    )
    # Each part becomes Arrow as it is computed (its pandas frame freed): the parts are then joined without a copy,
    # where concatenating and retyping the frames held them three times over (the nightly run's peak of memory).
    parts: list[pa.Table] = []
    if kept and len(changed):
        mine = of_customers(con, changed)
        if len(mine.interactions) or len(mine.customers):
            # A few customers at many times: one pandas pass over stacked copies, not one per time (stacked.py).
            parts.append(
                as_arrow(
                    stacked_rows_at(
                        bounded(mine, kept[0], window_days),
                        kept,
                        window_days,
                        horizon_days,
                        data_end,
                        configured_batch_rows(),
                    )
                )
            )
        del mine
    # Every customer at the new times, from the history those times' features read (bounded in DuckDB), by
    # batches of customers: what Python holds is one batch's inputs, whatever the history and the customer count.
    count = batches(con, size.interactions, len(new), configured_batch_rows()) if new else 0
    log.info("int_prediction_rows: the %s new prediction times computed in %s batches of customers", len(new), count)
    for recent in windows(con, new[0], window_days, count) if new else []:  # bounded at new[0] (reads.window)
        parts.append(as_arrow(rows_at(recent, new, window_days, horizon_days, data_end)))
        del recent
    # Their fingerprints (tonight's) are joined in the query below.
    fresh = pa.concat_tables(parts) if parts else as_arrow(pd.DataFrame(columns=list(ROW_COLUMNS)))
    del parts
    log.info("int_prediction_rows: %s rows computed (new times, recomputed customers)", fresh.num_rows)
    # What the table loses: every row of a customer not kept (recomputed or vanished) and of a time not kept.
    directives = [
        directive(DELETE_CUSTOMER, customer_key=_keys(status, "in_stored and not unchanged")),
        directive(DELETE_TIME, snapshot_at=sorted(set(times_before) - set(kept))),
        directive(CHANGES),
    ]
    columns = ", ".join(STORED_ROW_COLUMNS)
    selects = []
    if kept:
        # A customer-initiated contact that started by last night's end but ended after it (so not in last night's
        # data, nor in the fingerprint): it can be the repeat contact of an engagement open at any earlier time
        # whose horizon holds its start, so all of its customer's repeat-contact labels are recomputed.
        straddled = straddling(con, last)
        con.register("__prediction_rows_straddled", pd.DataFrame({"customer_key": straddled.to_numpy(dtype=object)}))
        # The kept customers with tonight's fingerprint, and whether a straddling contact relabels all their rows.
        con.execute(
            f"""create or replace temp view __prediction_rows_keep as
            select customer_key, now as {FINGERPRINT},
                customer_key in (select customer_key from __prediction_rows_straddled) as relabel_all
            from {STATUS} where unchanged"""
        )
        # A kept customer's new input (tonight's contacts) changes their fingerprint: set on their rows.
        moved = status.filter("unchanged and now <> stored").project("customer_key, now").df()
        directives.append(directive(SET_FINGERPRINT, customer_key=moved["customer_key"], fingerprint=moved["now"]))
        # A view of the customers, not a frame read into pandas and scanned back (~700k string keys at 10M events).
        con.execute(f"create or replace temp view __prediction_rows_churn as select customer_key, churned_at from {CU}")
        since = last - max(window_days, horizon_days) * DAY
        demanded = demand(con, since, "__prediction_rows_straddled", kept[0])
        con.execute(f"create or replace temp view __prediction_rows_demand as {demanded}")
        relabelled = relabelled_rows_sql(
            previous,
            list(STORED_ROW_COLUMNS),
            kept,
            last,
            data_end,
            "__prediction_rows_keep",
            "__prediction_rows_churn",
            "__prediction_rows_demand",
            max(window_days, horizon_days),
        )
        selects.append(f"select {columns} from ({relabelled})")
    con.register("__prediction_rows_fresh", fresh)
    # The blocks the batches' reads left cached freed (engine/duckdb_settings.py), under the limit the model keeps while
    # its rows are computed and written (its post-hook restores the warehouse's): at 10M events dbt's process 2.65 GiB
    # against 2.92 under the warehouse's 2GB, same CPU (DECISIONS.md "The night's peak of memory at 10 million events").
    release_cache(con, python_model_memory_limit())
    con.register("__prediction_rows_directives", typed(pd.concat(directives, ignore_index=True), STORED_ROW_COLUMNS))
    # A lazy relation: dbt (and strategy.write) makes it a table before the strategy changes last night's table,
    # which the relabelled rows read.
    # The new rows get their customer's fingerprint of tonight (NULL for a key without one), joined here rather
    # than mapped on ~1.5M string keys in pandas (issue 22).
    fresh_columns = ", ".join(f"s.now as {c}" if c == FINGERPRINT else f"f.{c}" for c in STORED_ROW_COLUMNS)
    selects.append(
        f"select {fresh_columns} from __prediction_rows_fresh as f left join {STATUS} as s "
        "on f.customer_key = s.customer_key"
    )
    selects.append(f"select {columns} from __prediction_rows_directives")
    return con.sql(" union all ".join(selects))
