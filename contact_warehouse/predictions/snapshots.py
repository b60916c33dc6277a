"""Training and scoring rows: the features at a series of prediction times, with what happened next (labels).

A prediction time is a midnight (UTC) of the data, from ``WARMUP_DAYS`` after its first contact, plus the data's
end (the time the nightly scores are for). A row's label is known when its horizon ended before the data did.
"""

from __future__ import annotations

import pandas as pd

from .features import DAY, Frames, customer_features, open_engagements

WARMUP_DAYS = 7  # the first week has no history to describe a customer with


def snapshot_times(frames: Frames) -> list[pd.Timestamp]:
    """Midnights from the data's start plus the warm-up to its end, then the end itself."""
    start, end = frames.data_start.floor("D") + WARMUP_DAYS * DAY, frames.data_end
    times = list(pd.date_range(start, end, freq="D")) if start <= end else []
    return [*[t for t in times if t < end], end]


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
        rows = feats.loc[feats.index.intersection(alive.index)].copy()
        churned_at = alive["churned_at"].reindex(rows.index)
        rows["label"] = (churned_at > t) & (churned_at <= t + horizon_days * DAY)
        rows["customer_ref"] = alive["customer_ref"].reindex(rows.index)
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
        again = set(zip(nxt["customer_key"], nxt["intent"], strict=True))
        rows["label"] = [(k, i) in again for k, i in zip(rows["customer_key"], rows["intent"], strict=True)]
        rows["snapshot_at"] = t
        parts.append(rows)
    return _with_label_known(parts, window_days, frames)


def _with_label_known(parts: list[pd.DataFrame], horizon_days: int, frames: Frames) -> pd.DataFrame:
    """The rows of every prediction time, each marked whether its horizon ended by the data's end."""
    if not parts:
        return pd.DataFrame({"snapshot_at": pd.Series(dtype="datetime64[us]"), "label": [], "label_known": []})
    out = pd.concat(parts, ignore_index=True)
    out["label_known"] = out["snapshot_at"] + horizon_days * DAY <= frames.data_end
    return out
