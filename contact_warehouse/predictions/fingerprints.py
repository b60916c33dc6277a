"""The per-customer input fingerprints of ``int_prediction_rows`` (incremental.py), hashed by DuckDB (issue 22).

The rows are hashed and summed per customer in DuckDB, over the model's input relations as they are in the
database (the dbt model's ``dbt.ref``s; frames are handed to DuckDB first), so that the hashing neither costs a
pandas pass over every row of the history nor holds a copy of it: what comes back to Python is a few numbers per
customer, which are combined into one hash per customer there. The fingerprint of a customer is therefore a function
of the rows as the relations give them: the values stored last night and compared tonight come from the same
source (the dbt model, or frames in the bench and the tests), and a DuckDB whose ``hash`` changed changes every
fingerprint, which makes the night a full recompute (incremental.py), never a wrong keep.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from .features import Frames

FINGERPRINT = "_input_fingerprint"
# A CRM timestamp after the cut-off, and none at all (as microseconds since the epoch they cannot collide).
_AFTER, _NONE = -1, -2
_MOD = f"cast('{2**64}' as hugeint)"  # the sums' modulus (a literal this large would be read as a double)


@dataclass(frozen=True)
class Sources:
    """The three inputs of the rows as DuckDB relations of one connection: ``int_prediction_interactions``, the
    valid survey answers with a customer (customer_key, responded_at, survey_type, score) and the customers
    (customer_key, customer_ref, value_tier, crm_created_at, churned_at)."""

    interactions: duckdb.DuckDBPyRelation
    surveys: duckdb.DuckDBPyRelation
    customers: duckdb.DuckDBPyRelation
    # The connection opened for them when the caller had none (held as long as they are).
    own_connection: duckdb.DuckDBPyConnection | None = None


def sources_of(frames: Frames, con: duckdb.DuckDBPyConnection | None) -> Sources:
    """``frames`` as relations of ``con`` (a connection of their own without one)."""
    own = duckdb.connect() if con is None else None
    con = con if con is not None else own
    return Sources(con.from_df(frames.interactions), con.from_df(frames.surveys), con.from_df(frames.customers), own)


def _literal(t: pd.Timestamp) -> str:
    return f"timestamp '{pd.Timestamp(t).isoformat(sep=' ')}'"


def _quoted(columns: list[str]) -> str:
    return ", ".join('"' + c.replace('"', '""') + '"' for c in columns)


def _sums(relation: duckdb.DuckDBPyRelation, row_hash: str, known: list[str]) -> duckdb.DuckDBPyRelation:
    """Per customer (customer_key, NULL keys left out) and per condition ``known[i]``: the sum modulo 2**64
    (s{i}, uint64) and the count (n{i}) of the hashes ``row_hash`` of the rows meeting it. One scan for all."""
    aggregates = ["customer_key"]
    for i, condition in enumerate(known):
        aggregates += [
            f"cast(coalesce(sum(__row_hash) filter ({condition}), 0) % {_MOD} as ubigint) as s{i}",
            f"count(*) filter ({condition}) as n{i}",
        ]
    return (
        relation.filter("customer_key is not null")
        .project(f"*, {row_hash} as __row_hash")
        .aggregate(", ".join(aggregates), "customer_key")
    )


def _stamp(column: str, cutoff: str) -> str:
    """A CRM timestamp as it matters to prediction times up to ``cutoff``: its value, or 'after the cut-off'."""
    return f"case when {column} is null then {_NONE} when {column} > {cutoff} then {_AFTER} else epoch_us({column}) end"


def _crm_hash(cutoff: str) -> str:
    """The CRM row as the times up to ``cutoff`` read it: a creation after it makes the row 'after' as a whole (no
    reference, tier or churn), a churn after it is none (the open horizons' labels are relabelled in SQL)."""
    later = f"coalesce(crm_created_at > {cutoff}, false)"
    churned = f"case when churned_at is null or churned_at > {cutoff} then {_NONE} else epoch_us(churned_at) end"
    return (
        f"hash(case when {later} then null else customer_ref end, case when {later} then null else value_tier end, "
        f"{_stamp('crm_created_at', cutoff)}, case when {later} then {_AFTER} else {churned} end)"
    )


@dataclass(frozen=True)
class Fingerprinted:
    """``fingerprints``' result aligned on one array of keys: ``keys`` (sorted, object), per cut-off whether the
    key has an input known by it (``present[i]``) and its fingerprint there (``values[i]``, int64; meaningless
    where not present). The nightly run compares them without a string index per cut-off (issue 22: at 10M
    events every pandas operation on ~700k string keys costs tenths of a second)."""

    keys: np.ndarray
    present: list[np.ndarray]
    values: list[np.ndarray]

    def series(self, i: int) -> pd.Series:
        """The fingerprints of cut-off ``i`` (index customer_key: the keys present then, sorted)."""
        mask = self.present[i]
        return pd.Series(self.values[i][mask], index=pd.Index(self.keys[mask], name="customer_key"), name=FINGERPRINT)


def fingerprinted(sources: Sources, cutoffs: list[pd.Timestamp], tag: str) -> Fingerprinted:
    """``fingerprints``, aligned (``Fingerprinted``): the three inputs' per-customer sums are joined in DuckDB, so
    that pandas only hashes numbers."""
    it, sv, cu = sources.interactions, sources.surveys, sources.customers
    stamps = [_literal(c) for c in cutoffs]
    interactions = _sums(it, f"hash({_quoted(it.columns)})", [f"ended_at <= {c}" for c in stamps])
    surveys = _sums(sv, "hash(responded_at, survey_type, score)", [f"responded_at <= {c}" for c in stamps])
    crm_columns = ["customer_key"]
    for i, c in enumerate(stamps):
        crm_columns += [
            f"{_crm_hash(c)} as h{i}",
            f"crm_created_at is not null and not coalesce(crm_created_at > {c}, false) as present{i}",
        ]
    crm_rows = cu.filter("customer_key is not null").project(", ".join(crm_columns))
    crm_aggregates = ["customer_key"]
    for i in range(len(stamps)):
        crm_aggregates += [
            f"cast(sum(h{i}) % {_MOD} as ubigint) as s{i}",
            f"count(*) as n{i}",
            f"bool_or(present{i}) as present{i}",
        ]
    crm = crm_rows.aggregate(", ".join(crm_aggregates), "customer_key")
    parts = {"interactions": interactions, "surveys": surveys, "crm": crm}
    # One row per key of any part, the parts' sums and counts side by side (0 where a part has no row, as the
    # reindex with a 0 fill before: a NaN never makes the 64-bit sums floats), in the keys' order.
    # Full outer joins: each part's aggregate is computed once (a union of the keys would scan the inputs twice).
    joined = interactions.set_alias("interactions")
    key = "interactions.customer_key"
    for name in ("surveys", "crm"):
        joined = joined.join(parts[name].set_alias(name), f"{key} = {name}.customer_key", how="outer")
        key = f"coalesce({key}, {name}.customer_key)"
    columns = [f"{key} as customer_key"]
    for i in range(len(stamps)):
        for name in parts:
            columns += [
                f"coalesce({name}.s{i}, cast(0 as ubigint)) as {name}_s{i}",
                f"coalesce({name}.n{i}, 0) as {name}_n{i}",
            ]
        columns.append(
            f"coalesce(interactions.n{i}, 0) > 0 or coalesce(surveys.n{i}, 0) > 0 or coalesce(crm.present{i}, false)"
            f" as present{i}"
        )
    table = joined.project(", ".join(columns)).order("customer_key").df()
    keys_array = table["customer_key"].to_numpy(dtype=object)
    present, values = [], []
    for i in range(len(stamps)):
        mask = table[f"present{i}"].to_numpy(dtype=bool)
        frame = pd.DataFrame(index=pd.RangeIndex(int(mask.sum())))
        for name in parts:
            frame[f"{name}_sum"] = table[f"{name}_s{i}"].to_numpy(dtype=np.uint64)[mask]
            frame[f"{name}_n"] = table[f"{name}_n{i}"].to_numpy(dtype=np.int64)[mask]
        frame["tag"] = tag
        hashes = np.zeros(len(mask), dtype=np.uint64)
        hashes[mask] = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
        present.append(mask)
        values.append(hashes.view(np.int64))
    return Fingerprinted(keys_array, present, values)


def fingerprints(sources: Sources, cutoffs: list[pd.Timestamp], tag: str) -> list[pd.Series]:
    """Per cut-off, per customer with an input known by it (index customer_key): a 64-bit hash (as int64) of
    everything the rows of prediction times up to the cut-off read of them, values as they are now.

    That is every column of the interactions ended by the cut-off (what the features read; a contact that started
    by it but ended after it can move only labels, which ``nightly_prediction_rows`` recomputes for its
    customer: ``straddling``), the answers given by it, and the CRM row with a ``crm_created_at`` after the
    cut-off told apart only as 'after' (a CRM row created after it is 'after' as a whole) and a ``churned_at``
    after it as none (no time up to the cut-off reads more of them; the open horizons' labels are relabelled in
    SQL). ``tag`` (the parameters) is hashed in, the cut-off is not (an unchanged customer's fingerprint stays the
    same from night to night, so their rows are not rewritten). Each input is scanned once for all the cut-offs."""
    aligned = fingerprinted(sources, cutoffs, tag)
    return [aligned.series(i) for i in range(len(cutoffs))]


def engagements_span_customers(sources: Sources) -> bool:
    """An engagement has contacts of two customers (or two without an engagement id; a NULL customer key counts as
    one): a customer's rows would then read another's contacts (batched.py's pandas rule, in DuckDB)."""
    pairs = sources.interactions.project("engagement_id, customer_key").distinct()
    ((shared,),) = (
        pairs.aggregate("engagement_id, count(*) as n", "engagement_id").filter("n > 1").count("*").fetchall()
    )
    return shared > 0


__all__ = ["FINGERPRINT", "Sources", "engagements_span_customers", "fingerprints", "sources_of"]
