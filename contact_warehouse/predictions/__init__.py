"""Predictions from the customer hierarchy (scikit-learn): who will get in touch again on an open problem, who
will churn; each evaluated on a later period beside a simple baseline. No Dagster here: the dbt Python models of
``marts/predictions`` call these functions (DECISIONS.md "Predictions run as dbt Python models").

``prediction_rows`` computes the features of both tasks at every prediction time once (``int_prediction_rows``);
the marts train on those rows: ``evaluation`` and ``calibration`` (time-based split, model beside baseline) and
``scores`` (the data's end, scored by a model trained on every known outcome).
"""

from __future__ import annotations

import pandas as pd

from .features import CUSTOMER_FEATURES, ENGAGEMENT_FEATURES, Frames
from .models import evaluate_task, score
from .snapshots import churn_rows, customer_features_at, repeat_rows, snapshot_times

REPEAT_CONTACT, CHURN = "repeat_contact", "churn"
TASK_FEATURES = {REPEAT_CONTACT: (*ENGAGEMENT_FEATURES, *CUSTOMER_FEATURES), CHURN: CUSTOMER_FEATURES}
TASK_KEY = {REPEAT_CONTACT: "engagement_id", CHURN: "customer_ref"}

_TS, _F, _I, _S, _B = "datetime64[us]", "float64", "Int64", "string", "boolean"
ROW_COLUMNS = {
    "model_name": _S,
    "snapshot_at": _TS,
    "horizon_days": _I,
    "engagement_id": _S,
    "customer_key": _S,
    "customer_ref": _S,
    "intent": _S,
    **{f: _F for f in (*ENGAGEMENT_FEATURES, *CUSTOMER_FEATURES)},
    "label": _B,
    "label_known": _B,
}
EVALUATION_COLUMNS = {
    "model_name": _S,
    "scorer": _S,
    "model_version": _S,
    "status": _S,
    "horizon_days": _I,
    "cutoff_at": _TS,
    "training_window_start": _TS,
    "training_window_end": _TS,
    "training_rows": _I,
    "training_positives": _I,
    "evaluation_window_start": _TS,
    "evaluation_window_end": _TS,
    "evaluation_rows": _I,
    "evaluation_positives": _I,
    "roc_auc": _F,
    "brier_score": _F,
    "beats_baseline": _B,
}
CALIBRATION_COLUMNS = {
    "model_name": _S,
    "scorer": _S,
    "decile": _I,
    "rows_count": _I,
    "mean_predicted_probability": _F,
    "observed_rate": _F,
}
_SCORE_COMMON = {
    "customer_key": _S,
    "probability": _F,
    "baseline_probability": _F,
    "is_frequent_contacter_30d": _B,
    "predicted_at": _TS,
    "horizon_days": _I,
    "model_version": _S,
    "training_window_start": _TS,
    "training_window_end": _TS,
    "training_rows": _I,
}
SCORE_COLUMNS = {
    REPEAT_CONTACT: {"engagement_id": _S, "intent": _S, **_SCORE_COMMON},
    CHURN: {"customer_ref": _S, **_SCORE_COMMON},
}


def typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Exactly ``columns``, in order and with their dtypes (an empty or all-missing column keeps its type in
    the table dbt writes)."""
    out = pd.DataFrame(index=df.index)
    for name, dtype in columns.items():
        col = df[name] if name in df else pd.Series(pd.NA, index=df.index, dtype="object")
        if dtype == _TS:
            out[name] = pd.to_datetime(col).astype(_TS)
        elif dtype == _F:
            out[name] = pd.to_numeric(col).astype(_F)
        else:
            out[name] = col.astype(object).where(col.notna(), None).astype(dtype)
    return out.reset_index(drop=True)


def frames_from(interactions: pd.DataFrame, surveys: pd.DataFrame, customers: pd.DataFrame) -> Frames:
    """Frames from the relations' dataframes, timestamps as naive UTC."""

    def naive(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
        df = df.copy()
        for c in cols:
            df[c] = pd.to_datetime(df[c])
            if df[c].dt.tz is not None:
                df[c] = df[c].dt.tz_convert("UTC").dt.tz_localize(None)
        return df

    interactions = naive(interactions, ("started_at", "ended_at"))
    for c in ("is_customer_initiated", "is_resolved", "is_assisted"):
        interactions[c] = interactions[c].astype("boolean").fillna(False).astype(bool)
    for c in ("channels_count", "effort_minutes", "transfers", "abandoned_legs", "wait_seconds", "sentiment_compound"):
        interactions[c] = pd.to_numeric(interactions[c]).astype(float)
    surveys = naive(surveys, ("responded_at",))
    surveys["score"] = pd.to_numeric(surveys["score"]).astype(float)
    return Frames(interactions, surveys, naive(customers, ("crm_created_at", "churned_at")))


def prediction_rows(frames: Frames, window_days: int, horizon_days: int) -> pd.DataFrame:
    """Both tasks' rows at every prediction time: repeat contact on the engagements open then (within
    ``window_days``), churn of the CRM customers (within ``horizon_days``)."""
    times = snapshot_times(frames) if len(frames.interactions) else []
    features = customer_features_at(frames, times)
    repeat = repeat_rows(frames, times, window_days, features).assign(model_name=REPEAT_CONTACT)
    churn = churn_rows(frames, times, horizon_days, features).assign(model_name=CHURN)
    repeat["horizon_days"], churn["horizon_days"] = window_days, horizon_days
    return typed(pd.concat([repeat, churn], ignore_index=True), ROW_COLUMNS)


def _task(rows: pd.DataFrame, task: str) -> tuple[pd.DataFrame, int | None]:
    sub = rows[rows["model_name"] == task]
    return sub, (int(sub["horizon_days"].iloc[0]) if len(sub) else None)


def evaluation(rows: pd.DataFrame, horizons: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The evaluation (model and baseline per task) and the calibration by decile, from ``prediction_rows``.
    ``horizons`` gives each task's horizon when it has no rows."""
    evals, calib = [], []
    for task in (REPEAT_CONTACT, CHURN):
        sub, horizon = _task(rows, task)
        result = evaluate_task(task, sub, TASK_FEATURES[task], horizon or horizons[task])
        evals += result.evaluation
        calib += result.calibration
    return typed(pd.DataFrame(evals), EVALUATION_COLUMNS), typed(pd.DataFrame(calib), CALIBRATION_COLUMNS)


def scores(rows: pd.DataFrame, task: str) -> pd.DataFrame:
    """The entities of the data's end scored for ``task`` (no rows when there is too little history)."""
    sub, horizon = _task(rows, task)
    out = score(sub, list(TASK_FEATURES[task]), horizon or 0, TASK_KEY[task]) if horizon else pd.DataFrame()
    return typed(out, SCORE_COLUMNS[task])


__all__ = ["CHURN", "REPEAT_CONTACT", "Frames", "evaluation", "frames_from", "prediction_rows", "scores"]
