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
  those inputs (``fingerprints``) with the one stored on their rows last night (``_input_fingerprint``); a key
  that vanished has nothing to compare with and loses its rows;
- in SQL, over last night's table: the kept rows whose label (where the horizon was open) or ``label_known``
  changes.

The result is a change set, not the table (``nightly_prediction_rows``): those rows, to insert or to replace the
row of the same key, and instructions: delete the rows of the customers not kept and of the times not kept (fallen
out of ``prediction_history_days``, and the previous end, not a midnight), set the fingerprint of the kept
customers whose inputs grew. The dbt strategy ``prediction_changes`` applies it inside the table
(``dbt_project/macros/incremental_prediction_changes.sql``; ``strategy.py`` renders it for the bench and tests), so
a night writes what changed, not every row.

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

from . import ROW_COLUMNS, rows_at, typed
from .batched import engagements_span_customers, full_prediction_rows
from .features import DAY, NO_INTENT, Frames
from .snapshots import bounded, recent_times, snapshot_times

log = logging.getLogger(__name__)
FINGERPRINT = "_input_fingerprint"
STORED_ROW_COLUMNS = {**ROW_COLUMNS, FINGERPRINT: "Int64"}
_AFTER, _NONE = np.int64(-1), np.int64(-2)  # a CRM timestamp after the cut-off, and none at all
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


def _row_hashes(df: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(df, index=False).to_numpy(dtype=np.uint64)


def _per_customer(keys: pd.Series, hashes: np.ndarray) -> pd.DataFrame:
    """Order-independent sum (modulo 2**64) and count of the row hashes of each customer."""
    known = keys.notna().to_numpy()
    keys, hashes = keys[known], hashes[known]
    if not len(keys):
        return pd.DataFrame({"sum": pd.Series(dtype=np.uint64), "n": pd.Series(dtype=np.int64)})
    codes, uniques = pd.factorize(keys, sort=True)
    order = np.argsort(codes, kind="stable")
    sorted_codes, sorted_hashes = codes[order], hashes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(sorted_hashes, starts)
    counts = np.diff(np.r_[starts, len(sorted_codes)])
    return pd.DataFrame({"sum": sums, "n": counts}, index=pd.Index(uniques, name="customer_key"))


def _stamp(values: pd.Series, cutoff: pd.Timestamp) -> np.ndarray:
    """A CRM timestamp as it matters to prediction times up to ``cutoff``: its value, or 'after the cut-off'."""
    stamps = pd.to_datetime(values)
    out = stamps.to_numpy(dtype="datetime64[us]").astype(np.int64)
    out = np.where(stamps.isna().to_numpy(), _NONE, out)
    return np.where((stamps > cutoff).to_numpy(), _AFTER, out)


def fingerprints(frames: Frames, cutoffs: list[pd.Timestamp], tag: str) -> list[pd.Series]:
    """Per cut-off, per customer with an input known by it (index customer_key): a 64-bit hash (as int64) of
    everything the rows of prediction times up to the cut-off read of them, values as they are now.

    That is every column of the interactions ended by the cut-off (what the features read; a contact that started
    by it but ended after it can move only labels, which ``nightly_prediction_rows`` recomputes for its
    customer: ``straddling``), the answers given by it, and the CRM row with a ``crm_created_at`` after the
    cut-off told apart only as 'after' (a CRM row created after it is 'after' as a whole) and a ``churned_at``
    after it as none (no time up to the cut-off reads more of them; the open horizons' labels are relabelled in
    SQL). ``tag`` (the parameters) is hashed in, the cut-off is not.
    The rows are hashed once for all the cut-offs."""
    it, sv, cu = frames.interactions, frames.surveys, frames.customers
    it_hashes = _row_hashes(it)
    sv_hashes = _row_hashes(sv[["responded_at", "survey_type", "score"]])
    out = []
    for cutoff in cutoffs:
        created = _stamp(cu["crm_created_at"], cutoff)
        later = created == _AFTER
        churned = _stamp(cu["churned_at"], cutoff)
        churned = np.where(churned == _AFTER, _NONE, churned)
        crm = pd.DataFrame(
            {
                "customer_ref": cu["customer_ref"].astype(object).where(~later, None).to_numpy(),
                "value_tier": cu["value_tier"].astype(object).where(~later, None).to_numpy(),
                "crm_created_at": created,
                # A churn after the cut-off is, for the times up to it, no churn yet (the customer is alive then):
                # hashed as none, so that a churn recorded tonight only relabels the open horizons (in SQL) and
                # does not recompute the customer at every kept time.
                "churned_at": np.where(later, _AFTER, churned),
            }
        )
        known_it = (it["ended_at"] <= cutoff).to_numpy()
        known_sv = (sv["responded_at"] <= cutoff).to_numpy()
        parts = {
            "interactions": _per_customer(it["customer_key"][known_it], it_hashes[known_it]),
            "surveys": _per_customer(sv["customer_key"][known_sv], sv_hashes[known_sv]),
            "crm": _per_customer(cu["customer_key"], _row_hashes(crm)),
        }
        present = parts["interactions"].index.union(parts["surveys"].index)
        present = present.union(pd.Index(cu.loc[~later & (created != _NONE), "customer_key"]))
        table = pd.DataFrame(index=present)
        for name, part in parts.items():
            part = part.reindex(present)
            table[f"{name}_sum"] = part["sum"].fillna(0).astype(np.uint64)
            table[f"{name}_n"] = part["n"].fillna(0).astype(np.int64)
        # The cut-off is not hashed in: an unchanged customer's fingerprint then stays the same from night to night
        # and their rows are not rewritten (the comparison is always at last night's end, where it was stored).
        table["tag"] = tag
        out.append(pd.Series(_row_hashes(table).view(np.int64), index=present, name=FINGERPRINT))
    return out


def previous_times(con: duckdb.DuckDBPyConnection, previous: str) -> list[pd.Timestamp]:
    """Last night's prediction times, sorted: the last is last night's data end."""
    ((times,),) = con.sql(f"select list(distinct snapshot_at order by snapshot_at) from {previous}").fetchall()
    return [pd.Timestamp(t) for t in times or []]


def stored_fingerprints(previous: duckdb.DuckDBPyRelation) -> pd.Series:
    """The fingerprint last night's rows were built from, per customer (a customer's rows all carry the same)."""
    df = previous.aggregate(f"customer_key, min({FINGERPRINT}) as lo, max({FINGERPRINT}) as hi", "customer_key").df()
    df = df[df["lo"] == df["hi"]]
    return pd.Series(df["lo"].to_numpy(dtype=np.int64), index=pd.Index(df["customer_key"], name="customer_key"))


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


def restricted(frames: Frames, customers: pd.Index) -> Frames:
    """``frames`` of ``customers`` only: their rows read nothing of anybody else's (one customer per engagement)."""
    return Frames(
        frames.interactions[frames.interactions["customer_key"].isin(customers)],
        frames.surveys[frames.surveys["customer_key"].isin(customers)],
        frames.customers[frames.customers["customer_key"].isin(customers)],
    )


def relabelled_rows_sql(
    previous: str,
    columns: list[str],
    kept_times: list[pd.Timestamp],
    open_after: pd.Timestamp,
    data_end: pd.Timestamp,
    keep: str,
    churn: str,
    demand: str,
) -> str:
    """Those of last night's rows of the customers in ``keep`` (customer_key, fingerprint: their new one,
    relabel_all) at ``kept_times`` whose ``label`` or ``label_known`` changes, with the new values: ``label``
    recomputed where the horizon ended after ``open_after``, and at every time for the repeat-contact rows of the
    customers marked relabel_all (the rule of snapshots.py's ``churn_rows`` and ``repeat_rows``, over ``churn``:
    customer_key, churned_at, and ``demand``: the customer-initiated contacts' customer_key, intent, started_at),
    and ``label_known`` against ``data_end``. Every other kept row stays as it is in the table."""
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
    # Only the rows whose horizon was open (a few days of times) and those of the few customers marked
    # relabel_all are read; only those whose values change are returned (and rewritten in the table).
    return f"""
        select {outer} from (
            select p.*, {churn_label} as new_label, {known} as new_known, k.{FINGERPRINT} as new_fingerprint
            {rows} left join {churn} as c on p.customer_key = c.customer_key
            where {kept} and p.model_name = 'churn' and {is_open}
            union all
            select p.*, {repeat_label} as new_label, {known} as new_known, k.{FINGERPRINT} as new_fingerprint
            {rows} where {kept} and p.model_name <> 'churn' and ({is_open} or k.relabel_all)
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
    frames: Frames,
    window_days: int,
    horizon_days: int,
    history_days: int | None,
    con: duckdb.DuckDBPyConnection | None,
    previous: str | None,
) -> pd.DataFrame | pa.RecordBatchReader | duckdb.DuckDBPyRelation:
    """``int_prediction_rows`` with its fingerprints: ``prediction_rows`` of ``frames``, row for row, computed from
    the table ``previous`` (last night's, a table of ``con``; None: none, or a full refresh) as the module
    docstring says, or in full when it cannot be (no usable previous table, a parameter or the data's start
    changed, an engagement of two customers). The incremental result is the change set (module docstring), a
    relation of ``con`` that reads ``previous``: make it a table before changing ``previous``; the full one the
    whole table: with ``con`` (dbt-duckdb's model) a reader of batches of customers computed as they are read
    (bounded memory, batched.py), without it a frame. Logs which it computed, why, and how much."""
    tag = f"window={window_days};horizon={horizon_days};history={history_days};start={frames.data_start}"
    data_end = frames.data_end

    def full(reason: str) -> pd.DataFrame | pa.RecordBatchReader:
        log.info("int_prediction_rows: full recompute: %s", reason)
        (now,) = fingerprints(frames, [data_end], tag) if len(frames.interactions) else [pd.Series(dtype=np.int64)]
        streamed = con is not None  # dbt-duckdb's model (the Python step off DuckDB wants a frame)
        return full_prediction_rows(frames, window_days, horizon_days, history_days, now, STORED_ROW_COLUMNS, streamed)

    if previous is None:
        return full("no previous table (first build or --full-refresh)")
    if not len(frames.interactions):
        return full("no interactions")
    if not _table_exists(con, previous):
        return full(f"the previous table {previous} does not exist")
    if not _same_shape(con, previous):
        return full(f"the previous table {previous} has other columns or types than this code writes")
    if engagements_span_customers(frames):
        return full("an engagement spans two customers (a customer's rows would read another's contacts)")
    times_before = previous_times(con, previous)
    last = times_before[-1] if times_before else None
    if last is None or last > data_end:
        return full("the previous table has no prediction time at or before the data's end")
    at_last, now = fingerprints(frames, [last, data_end], tag)
    stored = stored_fingerprints(con.sql(f"select customer_key, {FINGERPRINT} from {previous}"))
    both = at_last.index.intersection(stored.index)
    unchanged = both[at_last.loc[both].to_numpy() == stored.loc[both].to_numpy()]
    if not len(unchanged):
        return full(
            "no customer's inputs are as last night's (a changed window, horizon, history bound or data start "
            "changes every fingerprint)"
        )

    times = snapshot_times(frames)
    times = recent_times(times, history_days) if history_days is not None else times
    kept, new = [t for t in times if t <= last], [t for t in times if t > last]
    # Changed: their fingerprint differs (or their key is new to last night's table and they can have a row then).
    changed = both.difference(unchanged)
    new_keys = at_last.index.difference(stored.index)
    changed = changed.union(may_have_rows(frames, new_keys, kept, window_days)) if kept else changed
    log.info(
        "int_prediction_rows: incremental from %s (last night's end %s): %s customers kept, %s recomputed at the "
        "%s kept times, %s gone; %s new prediction times computed for every customer, %s times dropped",
        previous,
        last,
        len(unchanged),
        len(changed),
        len(kept),
        len(stored.index.difference(at_last.index)),
        len(new),
        len(set(times_before) - set(kept)),
    )
    parts = []
    if kept and len(changed):
        mine = restricted(frames, changed)
        if len(mine.interactions) or len(mine.customers):
            parts.append(rows_at(bounded(mine, kept[0], window_days), kept, window_days, horizon_days, data_end))
    if new:
        parts.append(rows_at(bounded(frames, new[0], window_days), new, window_days, horizon_days, data_end))
    fresh = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(ROW_COLUMNS))
    fresh[FINGERPRINT] = fresh["customer_key"].map(now)
    fresh = typed(fresh, STORED_ROW_COLUMNS)
    # What the table loses: every row of a customer not kept (recomputed or vanished) and of a time not kept.
    directives = [
        directive(DELETE_CUSTOMER, customer_key=stored.index.difference(unchanged)),
        directive(DELETE_TIME, snapshot_at=sorted(set(times_before) - set(kept))),
        directive(CHANGES),
    ]
    columns = ", ".join(STORED_ROW_COLUMNS)
    selects = []
    if kept:
        it = frames.interactions
        # A customer-initiated contact that started by last night's end but ended after it (so not in last night's
        # data, nor in the fingerprint): it can be the repeat contact of an engagement open at any earlier time
        # whose horizon holds its start, so all of its customer's repeat-contact labels are recomputed.
        straddling = it.loc[it["is_customer_initiated"] & (it["started_at"] <= last) & (it["ended_at"] > last)]
        keep = pd.DataFrame(
            {
                "customer_key": unchanged.to_numpy(dtype=object),
                FINGERPRINT: now.reindex(unchanged).to_numpy(),
                "relabel_all": unchanged.isin(straddling["customer_key"]),
            }
        )
        # A kept customer's new input (tonight's contacts) changes their fingerprint: set on their rows.
        moved = keep[keep[FINGERPRINT].to_numpy() != stored.reindex(unchanged).to_numpy()]
        directives.append(
            directive(SET_FINGERPRINT, customer_key=moved["customer_key"], fingerprint=moved[FINGERPRINT])
        )
        churn = frames.customers[["customer_key", "churned_at"]]
        recent = it["started_at"] > last - max(window_days, horizon_days) * DAY
        recent |= it["customer_key"].isin(straddling["customer_key"]) & (it["started_at"] > kept[0])
        demand = it.loc[recent & it["is_customer_initiated"], ["customer_key", "intent", "started_at"]]
        demand = demand.astype({"intent": object})
        for name, df in (("keep", keep), ("churn", churn), ("demand", demand)):
            con.register(f"__prediction_rows_{name}", df)
        relabelled = relabelled_rows_sql(
            previous,
            list(STORED_ROW_COLUMNS),
            kept,
            last,
            data_end,
            "__prediction_rows_keep",
            "__prediction_rows_churn",
            "__prediction_rows_demand",
        )
        selects.append(f"select {columns} from ({relabelled})")
    con.register("__prediction_rows_fresh", fresh)
    con.register("__prediction_rows_directives", typed(pd.concat(directives, ignore_index=True), STORED_ROW_COLUMNS))
    # A lazy relation: dbt (and strategy.write) makes it a table before the strategy changes last night's table,
    # which the relabelled rows read.
    selects += [f"select {columns} from __prediction_rows_{name}" for name in ("fresh", "directives")]
    return con.sql(" union all ".join(selects))
