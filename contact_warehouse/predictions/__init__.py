"""Predictions from the customer hierarchy (scikit-learn): who will get in touch again on an open problem, who
will churn; each evaluated on a later period beside a simple baseline. No Dagster here: the dbt Python models of
``marts/predictions`` call these functions (DECISIONS.md "Predictions run as dbt Python models").

``prediction_rows`` computes the features of both tasks at every prediction time once (``int_prediction_rows``);
the marts train on those rows: ``evaluation`` and ``calibration`` (time-based split, model beside baseline) and
``scores`` (the data's end, scored by a model trained on every known outcome).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from .features import CUSTOMER_FEATURES, ENGAGEMENT_FEATURES, Frames
from .models import evaluate_task, score
from .snapshots import Coded, Part, bounded, coded, parts_at, recent_times, snapshot_times
from .training import sample_condition

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


# int_prediction_evaluation: the evaluation's and the calibration's rows in one table (one fit for both marts).
EVALUATION_AND_CALIBRATION_COLUMNS = {
    "record": _S,
    **EVALUATION_COLUMNS,
    **{name: dtype for name, dtype in CALIBRATION_COLUMNS.items() if name not in EVALUATION_COLUMNS},
}


# The extension dtypes ``typed`` gives (string, Int64, boolean): a column already of one is kept as it is.
_EXTENSION = {name: pd.api.types.pandas_dtype(name) for name in (_S, _I, _B)}


def typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Exactly ``columns``, in order and with their dtypes (an empty or all-missing column keeps its type in
    the table dbt writes)."""
    out = pd.DataFrame(index=df.index)
    for name, dtype in columns.items():
        col = df[name] if name in df else pd.Series(pd.NA, index=df.index, dtype="object")
        if dtype in _EXTENSION and col.dtype == _EXTENSION[dtype]:
            # Already of that type (the prediction rows as _assemble builds them): the round trip through objects
            # below gives the same values, at ~0.5 s per string column of 1.5M rows (issue 22).
            out[name] = col
        elif dtype == _TS:
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
    # In one order whatever the read's (a nightly run reads the recent history apart from the rest, a dbt
    # connection keeps no insertion order): the features' float sums and means are then the same to the last bit.
    if not interactions["interaction_id"].is_monotonic_increasing:
        interactions = interactions.sort_values("interaction_id", kind="stable", ignore_index=True)
    for c in ("is_customer_initiated", "is_resolved", "is_assisted"):
        interactions[c] = interactions[c].astype("boolean").fillna(False).astype(bool)
    for c in ("channels_count", "effort_minutes", "transfers", "abandoned_legs", "wait_seconds", "sentiment_compound"):
        interactions[c] = pd.to_numeric(interactions[c]).astype(float)
    surveys = naive(surveys, ("responded_at",))
    surveys["score"] = pd.to_numeric(surveys["score"]).astype(float)
    return Frames(interactions, surveys, naive(customers, ("crm_created_at", "churned_at")))


def prediction_rows(
    frames: Frames, window_days: int, horizon_days: int, history_days: int | None = None
) -> pd.DataFrame:
    """Both tasks' rows at every prediction time: repeat contact on the engagements open then (within
    ``window_days``), churn of the CRM customers (within ``horizon_days``). The repeat-contact rows first, each
    task's in time order. With ``history_days``, only the prediction times of the last ``history_days`` days
    (``recent_times``), computed from the history they read (``bounded``): the same rows as without it at those
    times, at a cost that does not grow with the history (issue 22).

    Memory (issue 22): one prediction time at a time on integer keys, kept as compact parts (coded keys, one float
    block), then copied once into the result, each part freed as it is copied; the key strings are shared, not
    copied per row. The values are those of ``repeat_rows`` and ``churn_rows`` over all the times at once."""
    times = snapshot_times(frames) if len(frames.interactions) else []
    if history_days is not None and times:
        times = recent_times(times, history_days)
        frames = bounded(frames, times[0], window_days)
    return rows_at(frames, times, window_days, horizon_days, frames.data_end if times else None)


def rows_at(
    frames: Frames, times: list[pd.Timestamp], window_days: int, horizon_days: int, data_end: pd.Timestamp | None
) -> pd.DataFrame:
    """The rows of ``times`` (``prediction_rows``' loop), their ``label_known`` against ``data_end``: the data's
    end, also when ``frames`` holds only part of the customers (the nightly run's recomputed ones)."""
    code = coded(frames)
    repeat: list[Part] = []
    churn: list[Part] = []
    for t in times:
        r, c = parts_at(code.frames, t, window_days, horizon_days)
        repeat += [r] if r is not None else []
        churn += [c] if c is not None else []
    return _assemble(repeat, churn, code, data_end, window_days, horizon_days)


def _strings(values: list[np.ndarray | None], lengths: list[int], decode: np.ndarray | None) -> pd.arrays.StringArray:
    """One string column from the parts' (coded) values; NULL where a part has none."""
    out = np.full(sum(lengths), None, dtype=object)
    pos = 0
    for v, n in zip(values, lengths, strict=True):
        if v is not None and n:
            out[pos : pos + n] = decode[v] if decode is not None else v
        pos += n
    return pd.array(out, dtype="string")


def _assemble(
    repeat: list[Part],
    churn: list[Part],
    code: Coded,
    data_end: pd.Timestamp | None,
    window_days: int,
    horizon_days: int,
) -> pd.DataFrame:
    """The rows of ``ROW_COLUMNS``, typed as ``typed`` types them, from the parts (each freed once copied)."""
    parts = [*repeat, *churn]
    lengths = [len(p) for p in parts]
    n, n_repeat = sum(lengths), sum(len(p) for p in repeat)
    names = (*ENGAGEMENT_FEATURES, *CUSTOMER_FEATURES)
    # Feature x row, so that each column of the frame built on its transpose is contiguous (no copy by pandas).
    # Empty, not NaN-filled: every cell is written once below (filling ~250 MB first cost 0.16 s a batch, issue 22).
    block = np.empty((len(names), n))
    first_customer = len(ENGAGEMENT_FEATURES)
    pos = 0
    for p, size in zip(parts, lengths, strict=True):
        start = 0 if p.features.shape[1] == len(names) else first_customer
        block[:start, pos : pos + size] = np.nan  # a churn row has no engagement features
        block[start:, pos : pos + size] = p.features.T
        p.features = np.empty((0, 0))
        pos += size
    out = pd.DataFrame(block.T, columns=list(names), copy=False)

    horizons = np.where(np.arange(n) < n_repeat, window_days, horizon_days)
    snapshot = np.repeat(np.array([p.snapshot_at for p in parts], dtype="datetime64[us]"), lengths)
    snapshot = snapshot.astype("datetime64[us]") if n else np.array([], dtype="datetime64[us]")
    task = np.full(n, CHURN, dtype=object)
    task[:n_repeat] = REPEAT_CONTACT
    lead = {
        "model_name": pd.array(task, dtype="string"),
        "snapshot_at": snapshot,
        "horizon_days": pd.array(horizons, dtype="Int64"),
        "engagement_id": _strings([p.engagement_id for p in parts], lengths, code.engagement_ids),
        "customer_key": _strings([p.customer_key for p in parts], lengths, code.customer_keys),
        "customer_ref": _strings([p.customer_ref for p in parts], lengths, None),
        "intent": _strings([p.intent for p in parts], lengths, None),
    }
    for i, (name, values) in enumerate(lead.items()):
        out.insert(i, name, values)
    label = np.concatenate([p.label for p in parts]) if parts else np.array([], dtype=bool)
    out["label"] = pd.array(label, dtype="boolean")
    known = snapshot + horizons.astype("timedelta64[D]") <= np.datetime64(data_end) if n else label
    out["label_known"] = pd.array(known, dtype="boolean")
    return out


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


def evaluation_and_calibration(rows: pd.DataFrame, horizons: dict[str, int]) -> pd.DataFrame:
    """``evaluation``'s two tables in one, told apart by ``record`` (evaluation, calibration): the models are
    fitted once for both marts (issue 22), which select their part (``evaluation_part``, ``calibration_part``)."""
    evaluated, calibrated = evaluation(rows, horizons)
    both = pd.concat([evaluated.assign(record="evaluation"), calibrated.assign(record="calibration")])
    return typed(both, EVALUATION_AND_CALIBRATION_COLUMNS)


def evaluation_part(both: pd.DataFrame) -> pd.DataFrame:
    return typed(both[both["record"] == "evaluation"], EVALUATION_COLUMNS)


def calibration_part(both: pd.DataFrame) -> pd.DataFrame:
    return typed(both[both["record"] == "calibration"], CALIBRATION_COLUMNS)


def _columns(task: str | None, keys_at: int | None = None) -> str:
    """The columns a mart reads; the keys (a string per row) only for the rows of the time ``keys_at`` (epoch
    microseconds), NULL elsewhere."""
    keys = [*([TASK_KEY[task], "customer_key"] if task else []), *(["intent"] if task == REPEAT_CONTACT else [])]
    if keys_at is not None:
        keys = [f"case when epoch_us(snapshot_at) = {keys_at} then {key} end as {key}" for key in keys]
    features = TASK_FEATURES[task] if task else (*ENGAGEMENT_FEATURES, *CUSTOMER_FEATURES)
    return ", ".join(["model_name", "snapshot_at", "horizon_days", *keys, *features, "label", "label_known"])


def rows_to_evaluate(relation: duckdb.DuckDBPyRelation, max_rows: int | None = None) -> pd.DataFrame:
    """What ``evaluation`` reads of ``int_prediction_rows``: the rows whose outcome is known (the others are
    neither trained nor evaluated on), without the keys (memory, issue 22); with ``max_rows``, of each task only
    those of a fixed sample of whole customers, at most ``max_rows`` (``training.sample_condition``)."""
    known = relation.filter("label_known")
    return known.filter(sample_condition(known, max_rows)).project(_columns(None)).df()


def rows_to_score(relation: duckdb.DuckDBPyRelation, task: str, max_rows: int | None = None) -> pd.DataFrame:
    """What ``scores`` reads of ``int_prediction_rows`` for ``task``: its rows whose outcome is known (training;
    with ``max_rows``, only those of the same sample of whole customers as ``rows_to_evaluate``'s) and all those of
    its last prediction time (scored), with the columns it uses, the keys only where it scores (memory, issue 22)."""
    rows = relation.filter(f"model_name = '{task}'")
    ((last,),) = rows.aggregate("max(epoch_us(snapshot_at))").fetchall()
    if last is None:
        return rows.project(_columns(task)).df()
    sample = sample_condition(rows.filter("label_known"), max_rows)
    return (
        rows.filter(f"(label_known and {sample}) or epoch_us(snapshot_at) = {int(last)}")
        .project(_columns(task, int(last)))
        .df()
    )


def scores(rows: pd.DataFrame, task: str) -> pd.DataFrame:
    """The entities of the data's end scored for ``task`` (no rows when there is too little history)."""
    sub, horizon = _task(rows, task)
    out = score(sub, list(TASK_FEATURES[task]), horizon or 0, TASK_KEY[task]) if horizon else pd.DataFrame()
    return typed(out, SCORE_COLUMNS[task])


__all__ = [
    "CHURN",
    "REPEAT_CONTACT",
    "Frames",
    "calibration_part",
    "evaluation",
    "evaluation_and_calibration",
    "evaluation_part",
    "frames_from",
    "prediction_rows",
    "rows_to_evaluate",
    "rows_to_score",
    "scores",
]
