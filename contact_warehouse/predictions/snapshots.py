"""Training and scoring rows: the features at a series of prediction times, with what happened next (labels).

A prediction time is a midnight (UTC) of the data, from ``WARMUP_DAYS`` after its first contact, plus the data's
end (the time the nightly scores are for). A row's label is known when its horizon ended before the data did.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .features import CUSTOMER_FEATURES, DAY, ENGAGEMENT_FEATURES, Frames, customer_features, open_engagements

WARMUP_DAYS = 7  # the first week has no history to describe a customer with


def snapshot_times(frames: Frames) -> list[pd.Timestamp]:
    """Midnights from the data's start plus the warm-up to its end, then the end itself."""
    return snapshot_times_between(frames.data_start, frames.data_end)


def snapshot_times_between(data_start: pd.Timestamp, data_end: pd.Timestamp) -> list[pd.Timestamp]:
    """``snapshot_times`` of data from ``data_start`` to ``data_end`` (the nightly run knows them from DuckDB)."""
    start, end = data_start.floor("D") + WARMUP_DAYS * DAY, data_end
    times = list(pd.date_range(start, end, freq="D")) if start <= end else []
    return [*[t for t in times if t < end], end]


def recent_times(times: list[pd.Timestamp], history_days: int) -> list[pd.Timestamp]:
    """The prediction times of the last ``history_days`` days before the data's end (the last time)."""
    return [t for t in times if t > times[-1] - history_days * DAY] if times else []


def bounded(frames: Frames, first: pd.Timestamp, window_days: int) -> Frames:
    """``frames`` as the features of times from ``first`` on need them, without the history they never read.

    Kept: every interaction that ended or started after ``first`` less the longest window a feature looks back
    (30 days, or the engagement window), and every interaction of an engagement with one of those (an engagement's
    features and its resolution read all its contacts). Dropped, but summed per customer in ``earlier``: the rest,
    of which features read only the count of customer-initiated contacts and the last end. So the features at
    those times are those of the whole frames, value for value, and their cost no longer grows with the history
    (issue 22). Survey answers and customers are kept whole (one row per answer or customer, not per day)."""
    it = frames.interactions
    cut = first - max(30, window_days) * DAY
    recent = ((it["ended_at"] > cut) | (it["started_at"] > cut)).to_numpy()
    keep = recent | it["engagement_id"].isin(it.loc[recent, "engagement_id"].dropna().unique()).to_numpy()
    if keep.all():
        return frames
    dropped = it[~keep]
    earlier = (
        pd.DataFrame(
            {
                "customer_key": dropped["customer_key"],
                "contacts": dropped["is_customer_initiated"].astype(float),
                "last_ended_at": dropped["ended_at"],
            }
        )
        .groupby("customer_key", dropna=False)
        .agg(contacts=("contacts", "sum"), last_ended_at=("last_ended_at", "max"))
        .reset_index()
    )
    return replace(frames, interactions=it[keep], earlier=earlier)


def customer_features_at(frames: Frames, times: list[pd.Timestamp]) -> dict[pd.Timestamp, pd.DataFrame]:
    """The customer features at each time, computed once for both tasks."""
    return {t: customer_features(frames, t) for t in times}


def churn_rows(
    frames: Frames, times: list[pd.Timestamp], horizon_days: int, features: dict[pd.Timestamp, pd.DataFrame]
) -> pd.DataFrame:
    """Per prediction time, every CRM customer known then and not churned by then, with the customer features;
    ``label``: the CRM records a churn within ``horizon_days`` after it."""
    parts = []
    crm = frames.customers[frames.customers["customer_ref"].notna() & frames.customers["crm_created_at"].notna()]
    crm = crm.set_index("customer_key")
    for t in times:
        feats = features[t]
        alive = crm[~(crm["crm_created_at"] > t) & ~(crm["churned_at"] <= t)]
        # The customers with features that are alive, in the features' order (an intersection of the indexes, by
        # a mask: the customers' keys are unique).
        rows = feats[feats.index.isin(alive.index)]
        churned_at = alive["churned_at"].reindex(rows.index)
        rows = rows.assign(
            label=(churned_at > t) & (churned_at <= t + horizon_days * DAY),
            customer_ref=alive["customer_ref"].reindex(rows.index),
        )
        rows["snapshot_at"] = t
        parts.append(rows.reset_index(names="customer_key"))
    return _with_label_known(parts, horizon_days, frames)


def repeat_rows(
    frames: Frames, times: list[pd.Timestamp], window_days: int, features: dict[pd.Timestamp, pd.DataFrame]
) -> pd.DataFrame:
    """Per prediction time, every engagement open then (``open_engagements``) with its own and its customer's
    features; ``label``: the customer gets in touch again on the same intent within ``window_days`` after it."""
    demand = frames.interactions[frames.interactions["is_customer_initiated"]][["customer_key", "intent", "started_at"]]
    parts = []
    for t in times:
        eng = open_engagements(frames, t, window_days)
        if eng.empty:
            continue
        feats = features[t]
        rows = eng.join(feats, on="customer_key").reset_index(names="engagement_id")
        nxt = demand[(demand["started_at"] > t) & (demand["started_at"] <= t + window_days * DAY)]
        rows["label"] = _pairs_in(rows, nxt)
        rows["snapshot_at"] = t
        parts.append(rows)
    return _with_label_known(parts, window_days, frames)


def _pairs_in(rows: pd.DataFrame, nxt: pd.DataFrame) -> np.ndarray:
    """Whether each row's (customer_key, intent) is one of ``nxt``'s: the customer got in touch again on the same
    intent (a missing intent matches a missing one, as in a set of pairs). One hash join of the pairs, not a
    Python loop over the rows (issue 22)."""
    pairs = pd.MultiIndex.from_arrays([rows["customer_key"], rows["intent"].astype(object)])
    return np.asarray(pairs.isin(pd.MultiIndex.from_arrays([nxt["customer_key"], nxt["intent"].astype(object)])))


def _with_label_known(parts: list[pd.DataFrame], horizon_days: int, frames: Frames) -> pd.DataFrame:
    """The rows of every prediction time, each marked whether its horizon ended by the data's end."""
    if not parts:
        return pd.DataFrame({"snapshot_at": pd.Series(dtype="datetime64[us]"), "label": [], "label_known": []})
    out = pd.concat(parts, ignore_index=True)
    out["label_known"] = out["snapshot_at"] + horizon_days * DAY <= frames.data_end
    return out


@dataclass(frozen=True)
class Coded:
    """The frames with ``customer_key`` and ``engagement_id`` as integer codes, and the strings to decode them.

    Codes follow the keys' sorted order, so every groupby, sort and index intersection gives the rows in the same
    order as on the strings: the rows are those of the string frames, row for row. Grouping ~1M interactions on
    64-character strings at every prediction time was most of ``int_prediction_rows``' time (issue 22)."""

    frames: Frames
    customer_keys: np.ndarray | None  # None: not coded (a NULL key; the frames are the original ones)
    engagement_ids: np.ndarray | None


def coded(frames: Frames) -> Coded:
    """``frames`` with integer keys and categorical intent and channel (equality and ``isin`` on codes); left as
    they are when a key is NULL (fct_interactions' keys are tested not null: a NULL would group differently)."""
    it, sv, cu, ea = frames.interactions, frames.surveys, frames.customers, frames.earlier
    if frames.codes is not None:  # coded in DuckDB as below (reads.window)
        it = it.assign(intent=it["intent"].astype("category"), first_channel=it["first_channel"].astype("category"))
        return Coded(Frames(it, sv, cu, ea), *frames.codes)
    if it["customer_key"].isna().any() or it["engagement_id"].isna().any() or sv["customer_key"].isna().any():
        return Coded(frames, None, None)
    if cu["customer_key"].isna().any() or (ea is not None and ea["customer_key"].isna().any()):
        return Coded(frames, None, None)
    every = [
        it["customer_key"],
        sv["customer_key"],
        cu["customer_key"],
        *([ea["customer_key"]] if ea is not None else []),
    ]
    keys = pd.Index(pd.concat(every).unique()).sort_values()
    engagement_codes, engagement_ids = pd.factorize(it["engagement_id"], sort=True)
    it = it.assign(
        customer_key=keys.get_indexer(it["customer_key"]),
        engagement_id=engagement_codes,
        intent=it["intent"].astype("category"),
        first_channel=it["first_channel"].astype("category"),
    )
    sv = sv.assign(customer_key=keys.get_indexer(sv["customer_key"]))
    cu = cu.assign(customer_key=keys.get_indexer(cu["customer_key"]))
    ea = ea.assign(customer_key=keys.get_indexer(ea["customer_key"])) if ea is not None else None
    return Coded(Frames(it, sv, cu, ea), keys.to_numpy(dtype=object), np.asarray(engagement_ids, dtype=object))


@dataclass
class Part:
    """One task's rows at one prediction time, compact: keys still coded, features as one float block."""

    snapshot_at: pd.Timestamp
    customer_key: np.ndarray
    engagement_id: np.ndarray | None
    intent: np.ndarray | None
    customer_ref: np.ndarray | None
    features: np.ndarray  # rows x the task's features (ENGAGEMENT_FEATURES then CUSTOMER_FEATURES, or the latter)
    label: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_key)


def parts_at(frames: Frames, t: pd.Timestamp, window_days: int, horizon_days: int) -> tuple[Part | None, Part | None]:
    """The repeat-contact and churn rows at ``t`` (``repeat_rows``, ``churn_rows``), as parts; the customer
    features are computed once for both and dropped after."""
    feats = {t: customer_features(frames, t)}
    out: list[Part | None] = []
    for rows, cols in (
        (repeat_rows(frames, [t], window_days, feats), (*ENGAGEMENT_FEATURES, *CUSTOMER_FEATURES)),
        (churn_rows(frames, [t], horizon_days, feats), CUSTOMER_FEATURES),
    ):
        if "customer_key" not in rows:  # no row at t
            out.append(None)
            continue
        out.append(
            Part(
                snapshot_at=t,
                customer_key=rows["customer_key"].to_numpy(),
                engagement_id=rows["engagement_id"].to_numpy() if "engagement_id" in rows else None,
                intent=rows["intent"].astype(object).to_numpy() if "intent" in rows else None,
                customer_ref=rows["customer_ref"].to_numpy(dtype=object) if "customer_ref" in rows else None,
                features=rows[list(cols)].to_numpy(dtype="float64"),
                label=rows["label"].to_numpy(dtype=bool),
            )
        )
    return out[0], out[1]
