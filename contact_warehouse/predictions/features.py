"""Prediction features from the customer hierarchy, as known at a prediction time ``t``.

The one rule against leakage: a feature computed at ``t`` reads only interactions that had ended by ``t``
(``ended_at <= t``: every column of ``int_prediction_interactions`` is known then), survey answers given by ``t``,
and of the CRM only what does not change with time after ``t`` (value tier, creation date) and whether the
customer had churned by ``t``. Labels (what happened after ``t``) are computed apart, in ``labels``; the leakage
test deletes every event after ``t`` and checks that the features do not move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
NO_INTENT = ("unknown", "unmapped")  # never "the same problem" (docs/domain.md section 2)

INTERACTION_COLUMNS = (
    "interaction_id",
    "engagement_id",
    "customer_key",
    "started_at",
    "ended_at",
    "intent",
    "first_channel",
    "channels_count",
    "is_assisted",
    "is_customer_initiated",
    "is_resolved",
    "effort_minutes",
    "transfers",
    "abandoned_legs",
    "wait_seconds",
    "sentiment_compound",
)
SURVEY_COLUMNS = ("customer_key", "responded_at", "survey_type", "score")
CUSTOMER_COLUMNS = ("customer_key", "customer_ref", "value_tier", "crm_created_at", "churned_at")

# Customer features (both models), engagement features (the repeat-contact model).
CUSTOMER_FEATURES = (
    "contacts_7d",
    "contacts_30d",
    "contacts_total",
    "cancel_contacts_7d",
    "channels_30d",
    "assisted_30d",
    "days_since_last_contact",
    "unresolved_engagements_30d",
    "unresolved_repeat_engagements_30d",
    "unresolved_repeat_engagements_7d",
    "transfers_30d",
    "abandoned_legs_30d",
    "mean_wait_seconds_30d",
    "mean_sentiment_30d",
    "negative_interactions_30d",
    "latest_nps",
    "latest_nps_is_detractor",
    "detractor_answers_30d",
    "detractor_answers_7d",
    "latest_csat",
    "is_high_value",
    "tenure_days",
)
ENGAGEMENT_FEATURES = (
    "engagement_contacts",
    "engagement_age_hours",
    "hours_since_last_contact",
    "engagement_channels",
    "engagement_is_assisted",
    "engagement_transfers",
    "engagement_abandoned_legs",
    "engagement_effort_minutes",
    "engagement_min_sentiment",
)


@dataclass(frozen=True)
class Frames:
    """What the features read: ``int_prediction_interactions``, valid survey answers with their customer
    (``fct_survey_answers``) and the customers (``dim_customers``), timestamps naive UTC."""

    interactions: pd.DataFrame
    surveys: pd.DataFrame
    customers: pd.DataFrame
    # What ``bounded`` dropped of the interactions, per customer (customer_key, contacts: customer-initiated ones,
    # last_ended_at): the two features that read all of a customer's history add it back. None: nothing dropped.
    earlier: pd.DataFrame | None = None
    # The customer keys and engagement ids in the order of the integer codes that stand for them in these frames
    # (``reads.window`` codes them in DuckDB; ``snapshots.coded`` takes them as they are). None: keys as such.
    codes: tuple[np.ndarray, np.ndarray] | None = None
    # The last ``known_at``: both tasks' rows at a time read the frames known then (issue 22: computed once a time).
    _last_known: list[tuple[pd.Timestamp, Frames]] = field(default_factory=list, init=False, compare=False, repr=False)

    @property
    def data_end(self) -> pd.Timestamp:
        return self.interactions["ended_at"].max()

    @property
    def data_start(self) -> pd.Timestamp:
        return self.interactions["started_at"].min()

    def known_at(self, t: pd.Timestamp) -> Frames:
        """Everything as it was known at ``t``: what ended or was answered after ``t`` deleted, customers created
        after ``t`` deleted, a churn after ``t`` not yet recorded. Features of ``t`` read only this."""
        if self._last_known and self._last_known[0][0] == t:
            return self._last_known[0][1]
        customers = self.customers[~(self.customers["crm_created_at"] > t)].copy()
        customers.loc[customers["churned_at"] > t, "churned_at"] = pd.NaT
        known = Frames(
            interactions=self.interactions[self.interactions["ended_at"] <= t],
            surveys=self.surveys[self.surveys["responded_at"] <= t],
            customers=customers,
            earlier=self.earlier,  # all of it ended before any time a bounded frame is asked about
        )
        self._last_known[:] = [(t, known)]  # only the last: a loop over times does not keep every time's frames
        return known


def _count(series: pd.Series, index: pd.Index) -> pd.Series:
    return series.groupby(level=0).sum().reindex(index, fill_value=0).astype(float)


def customer_features(frames: Frames, t: pd.Timestamp) -> pd.DataFrame:
    """One row per customer of ``frames.customers`` (index customer_key): the customer features at ``t``."""
    known = frames.known_at(t)
    customers = known.customers.set_index("customer_key")
    index = customers.index
    it = known.interactions
    # One pass over the known interactions: an indicator (or value) column per feature, summed per customer.
    recent, week = it["started_at"] > t - 30 * DAY, it["started_at"] > t - 7 * DAY
    demand = it["is_customer_initiated"]
    per = pd.DataFrame(
        {
            "customer_key": it["customer_key"],
            "contacts_7d": demand & week,
            "contacts_30d": demand & recent,
            "contacts_total": demand,
            # A customer who asked to cancel is about to leave: the churn's own announcement, known at t.
            "cancel_contacts_7d": demand & week & (it["intent"] == "cancel_service"),
            "assisted_30d": recent & it["is_assisted"],
            "transfers_30d": it["transfers"].where(recent, 0.0),
            "abandoned_legs_30d": it["abandoned_legs"].where(recent, 0.0),
            "negative_interactions_30d": recent & (it["sentiment_compound"] <= -0.05),
            "mean_wait_seconds_30d": it["wait_seconds"].where(recent),
            "mean_sentiment_30d": it["sentiment_compound"].where(recent),
            "channel_30d": it["first_channel"].where(recent),
            "ended_at": it["ended_at"],
        }
    )
    g = per.groupby("customer_key")
    sums = [
        "contacts_7d",
        "contacts_30d",
        "contacts_total",
        "cancel_contacts_7d",
        "assisted_30d",
        "transfers_30d",
        "abandoned_legs_30d",
        "negative_interactions_30d",
    ]
    counted = g[sums].sum().astype(float).reindex(index, fill_value=0.0)
    means = g[["mean_wait_seconds_30d", "mean_sentiment_30d"]].mean().reindex(index)
    out = pd.DataFrame(index=index)
    for name in ("contacts_7d", "contacts_30d", "contacts_total", "cancel_contacts_7d"):
        out[name] = counted[name]
    out["channels_30d"] = g["channel_30d"].nunique().reindex(index, fill_value=0).astype(float)
    out["assisted_30d"] = counted["assisted_30d"]
    last_ended = g["ended_at"].max().reindex(index)
    if known.earlier is not None:
        earlier = known.earlier.set_index("customer_key").reindex(index)
        out["contacts_total"] = out["contacts_total"] + earlier["contacts"].fillna(0.0)
        # A max, not a fill: an engagement kept for a contact not yet ended at t leaves older ones in the frame.
        last_ended = pd.concat([last_ended, earlier["last_ended_at"]], axis=1).max(axis=1)
    out["days_since_last_contact"] = (t - last_ended) / DAY

    # Engagements as known at t: unresolved when no interaction ended by t resolved them.
    eng = it[~it["intent"].isin(NO_INTENT)].groupby("engagement_id")
    engagements = pd.DataFrame(
        {
            "customer_key": eng["customer_key"].first(),
            "last_ended_at": eng["ended_at"].max(),
            "contacts": eng.size(),
            "resolved": eng["is_resolved"].any(),
        }
    )
    unresolved = engagements[~engagements["resolved"] & (engagements["last_ended_at"] > t - 30 * DAY)]
    repeat = unresolved["contacts"] >= 2
    ug = (
        pd.DataFrame(
            {
                "customer_key": unresolved["customer_key"],
                "unresolved_engagements_30d": 1.0,
                "unresolved_repeat_engagements_30d": repeat.astype(float),
                "unresolved_repeat_engagements_7d": (repeat & (unresolved["last_ended_at"] > t - 7 * DAY)).astype(
                    float
                ),
            }
        )
        .groupby("customer_key")
        .sum()
        .reindex(index, fill_value=0.0)
    )
    for name in ug.columns:
        out[name] = ug[name].astype(float)

    for name in ("transfers_30d", "abandoned_legs_30d"):
        out[name] = counted[name]
    out["mean_wait_seconds_30d"] = means["mean_wait_seconds_30d"]
    out["mean_sentiment_30d"] = means["mean_sentiment_30d"]
    out["negative_interactions_30d"] = counted["negative_interactions_30d"]

    sv = known.surveys.sort_values("responded_at")
    nps = sv[sv["survey_type"] == "nps"]
    latest_nps = nps.groupby("customer_key")["score"].last().reindex(index)
    out["latest_nps"] = latest_nps.astype(float)
    out["latest_nps_is_detractor"] = np.where(latest_nps.isna(), np.nan, (latest_nps <= 6).astype(float))
    recent_nps = nps[nps["responded_at"] > t - 30 * DAY].set_index("customer_key")
    out["detractor_answers_30d"] = _count((recent_nps["score"] <= 6).astype(int), index)
    week_nps = (recent_nps["score"] <= 6) & (recent_nps["responded_at"] > t - 7 * DAY)
    out["detractor_answers_7d"] = _count(week_nps.astype(int), index)
    csat = sv[sv["survey_type"] == "csat"]
    out["latest_csat"] = csat.groupby("customer_key")["score"].last().reindex(index).astype(float)

    tier = customers["value_tier"]
    out["is_high_value"] = np.where(tier.isna(), np.nan, (tier == "high").astype(float))
    out["tenure_days"] = (t - customers["crm_created_at"]) / DAY
    return out


def open_engagements(frames: Frames, t: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Engagements open at ``t`` (index engagement_id): a known intent, a contact started by the customer,
    unresolved by ``t``, and the last contact less than ``window_days`` before ``t``; with their features."""
    it = frames.known_at(t).interactions
    it = it[~it["intent"].isin(NO_INTENT)]
    g = it.groupby("engagement_id")
    eng = pd.DataFrame(
        {
            "customer_key": g["customer_key"].first(),
            "intent": g["intent"].first(),
            "engagement_contacts": g.size().astype(float),
            "engagement_age_hours": (t - g["started_at"].min()) / pd.Timedelta(hours=1),
            "hours_since_last_contact": (t - g["ended_at"].max()) / pd.Timedelta(hours=1),
            "engagement_channels": g["first_channel"].nunique().astype(float),
            "engagement_is_assisted": g["is_assisted"].any().astype(float),
            "engagement_transfers": g["transfers"].sum().astype(float),
            "engagement_abandoned_legs": g["abandoned_legs"].sum().astype(float),
            "engagement_effort_minutes": g["effort_minutes"].sum().astype(float),
            "engagement_min_sentiment": g["sentiment_compound"].min(),
            "resolved": g["is_resolved"].any(),
            "customer_initiated": g["is_customer_initiated"].any(),
        }
    )
    keep = ~eng["resolved"] & eng["customer_initiated"] & (eng["hours_since_last_contact"] < window_days * 24)
    return eng[keep].drop(columns=["resolved", "customer_initiated"])
