"""Train, evaluate and score one prediction task with scikit-learn, beside its baseline.

The model: logistic regression on the standardised features (strongly regularised, C=0.05: churn is rare and
a confident model loses on the Brier score what it gains in ranking), a missing value imputed with the training median
and flagged by an indicator column (no NPS answer is information too). The baseline: "the customer got in touch
3 or more times in the last 30 days", turned into a probability by the training rows' rate with and without
the flag.

The evaluation is time-based: the model is trained on rows whose outcome was known before the cut-off (prediction
time plus horizon at or before it) and evaluated on the rows predicted at or after the cut-off. The scores for
the nightly run come from a model trained on every row whose outcome is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .features import DAY

MODEL_VERSION = f"logreg-v1 (scikit-learn {sklearn.__version__})"
BASELINE_VERSION = "contacted-3-in-30-days-v1"
BASELINE_CONTACTS = 3
# Fewer outcomes than this on either side of the split and the task is not evaluated (nor, for training, scored).
MIN_POSITIVES = 5
CALIBRATION_BINS = 10


@dataclass
class TaskResult:
    """One task's evaluation rows (model and baseline) and calibration rows."""

    evaluation: list[dict] = field(default_factory=list)
    calibration: list[dict] = field(default_factory=list)


class MedianImputer(TransformerMixin, BaseEstimator):
    """scikit-learn's ``SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True,
    copy=False)`` on a dense float matrix with NaN as the missing value, to the last bit: each missing value replaced
    in place by its column's median over the training rows (0 for a column without any value), then one 0/1
    column appended per feature that had a missing value in training, in feature order. The medians come from
    ``np.median`` of each column's values (a partition) instead of SimpleImputer's ``np.ma.median`` (a sort of the
    whole masked matrix): 0.04-0.14 s CPU instead of 0.32-0.44 in each 250,000-row fit at 120 days (issue 22,
    DECISIONS.md "the median imputation without a masked sort"). Both take the middle value, or the two middle
    values' sum halved; tests/test_predictions_imputer.py compares them."""

    def fit(self, X: np.ndarray, y: object = None) -> MedianImputer:
        X = np.asarray(X, dtype=float)
        missing = np.isnan(X)
        self.n_features_in_ = X.shape[1]
        self.statistics_ = np.zeros(X.shape[1])
        self.indicator_features_ = np.flatnonzero(missing.any(axis=0))
        for j in range(X.shape[1]):
            column = X[:, j]
            values = column[~missing[:, j]] if missing[:, j].any() else column
            if len(values):
                self.statistics_[j] = np.median(values)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if not X.flags.writeable:  # a read-only view of a frame (pandas' copy-on-write): imputed in a copy
            X = X.copy()
        missing = np.isnan(X)
        if missing.any():
            X[missing] = np.broadcast_to(self.statistics_, X.shape)[missing]
        return np.hstack((X, missing[:, self.indicator_features_].astype(float)))


def one_thread() -> threadpool_limits:
    """BLAS and OpenMP on one thread for a fit and its predictions (a context manager). The fits are small
    (at most ``prediction_training_rows_max`` rows of ~40 features, ~25 L-BFGS iterations): two OpenBLAS threads
    spin on each of their small matrix products and cost twice the CPU seconds for the same result, and the night's
    models run beside others on the same cores (issue 22, DECISIONS.md "the fits and their predictions on one
    BLAS thread"): -2 to -3 s CPU a night, the probabilities equal but in their last digits."""
    return threadpool_limits(limits=1)


def make_model() -> Pipeline:
    return Pipeline(
        [
            # In place: impute and scale the matrix given (the caller passes a fresh one, ``astype(float)``), not
            # two more copies of it; at 2.9M training rows each is ~0.7 GiB (issue 22). Same values.
            ("impute", MedianImputer()),
            ("scale", StandardScaler(copy=False)),
            ("model", LogisticRegression(C=0.05, max_iter=2000)),
        ]
    )


class Baseline:
    """P(label | contacted 3+ times in 30 days), from the training rows (add-one smoothed)."""

    def fit(self, rows: pd.DataFrame) -> Baseline:
        flag = rows["contacts_30d"] >= BASELINE_CONTACTS
        y = rows["label"].astype(bool)
        self.rate = {f: (y[flag == f].sum() + 1) / ((flag == f).sum() + 2) for f in (True, False)}
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        flag = rows["contacts_30d"] >= BASELINE_CONTACTS
        return np.where(flag, self.rate[True], self.rate[False])


def split(rows: pd.DataFrame, horizon_days: int) -> tuple[pd.Timestamp | None, pd.DataFrame, pd.DataFrame]:
    """The cut-off and the training and evaluation rows. Among the prediction times whose outcome is known, the
    later part (about half of what the horizon's gap leaves) is evaluated; training rows' outcomes end by the
    cut-off."""
    known = rows["label_known"].to_numpy(dtype=bool)  # a mask, not a copy of the rows (memory, issue 22)
    times = sorted(rows.loc[known, "snapshot_at"].unique())
    if not times:
        return None, rows.iloc[0:0], rows.iloc[0:0]
    first, last = pd.Timestamp(times[0]), pd.Timestamp(times[-1])
    span_days = (last - first) / DAY
    eval_days = max(0, int((span_days - horizon_days) // 2))
    cutoff = last - eval_days * DAY
    train = rows[known & (rows["snapshot_at"] + horizon_days * DAY <= cutoff).to_numpy()]
    test = rows[known & (rows["snapshot_at"] >= cutoff).to_numpy()]
    return cutoff, train, test


def _metrics(y: np.ndarray, p: np.ndarray) -> tuple[float | None, float]:
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None
    return auc, float(brier_score_loss(y, p))


def _calibration(task: str, scorer: str, y: np.ndarray, p: np.ndarray) -> list[dict]:
    """Rows ranked by predicted probability into ten equal groups (ties broken by order): mean prediction and
    observed rate of each."""
    order = np.argsort(p, kind="stable")
    out = []
    for decile, idx in enumerate(np.array_split(order, CALIBRATION_BINS), start=1):
        if len(idx):
            out.append(
                {
                    "model_name": task,
                    "scorer": scorer,
                    "decile": decile,
                    "rows_count": len(idx),
                    "mean_predicted_probability": float(p[idx].mean()),
                    "observed_rate": float(y[idx].mean()),
                }
            )
    return out


def held_out_predictions(
    train: pd.DataFrame, test: pd.DataFrame, cols: list[str], model: Pipeline | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The evaluation rows' outcomes (0/1) and the probabilities of the model (``make_model`` unless given) and of
    the baseline, both trained on ``train``."""
    with one_thread():
        model = (model or make_model()).fit(train[cols].astype(float), train["label"].astype(int))
        p_model = model.predict_proba(test[cols].astype(float))[:, 1]
    return test["label"].to_numpy(dtype=int), p_model, Baseline().fit(train).predict(test)


def brier_difference_interval(
    y: np.ndarray, p_model: np.ndarray, p_base: np.ndarray, groups: np.ndarray, draws: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of Brier(model) - Brier(baseline) by a paired bootstrap that resamples whole ``groups``
    (customers): a customer's rows at consecutive prediction times share their features and often their outcome,
    so resampling rows would understate the noise. Below zero: the model's probabilities are better."""
    codes, _ = pd.factorize(pd.Series(groups))
    diff = (p_model - y) ** 2 - (p_base - y) ** 2
    sums, counts = np.bincount(codes, diff), np.bincount(codes)
    picks = np.random.default_rng(seed).integers(0, len(sums), (draws, len(sums)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def evaluate_task(task: str, rows: pd.DataFrame, features: tuple[str, ...], horizon_days: int) -> TaskResult:
    """The model and the baseline, trained before the cut-off and evaluated on the later period: one evaluation
    row each (status ``insufficient_history`` when either side has fewer than ``MIN_POSITIVES`` outcomes) and
    their calibration by decile."""
    result = TaskResult()
    cols = list(features)
    cutoff, train, test = split(rows, horizon_days)
    common = {
        "model_name": task,
        "horizon_days": horizon_days,
        "cutoff_at": cutoff,
        "training_rows": len(train),
        "training_positives": int(train["label"].sum()) if len(train) else 0,
        "training_window_start": train["snapshot_at"].min() if len(train) else None,
        "training_window_end": train["snapshot_at"].max() + horizon_days * DAY if len(train) else None,
        "evaluation_rows": len(test),
        "evaluation_positives": int(test["label"].sum()) if len(test) else 0,
        "evaluation_window_start": test["snapshot_at"].min() if len(test) else None,
        "evaluation_window_end": test["snapshot_at"].max() + horizon_days * DAY if len(test) else None,
    }
    enough = (
        min(common["training_positives"], common["evaluation_positives"]) >= MIN_POSITIVES
        and common["training_positives"] < len(train)
        and common["evaluation_positives"] < len(test)
    )
    if not enough:
        for scorer, version in (("model", MODEL_VERSION), ("baseline", BASELINE_VERSION)):
            result.evaluation.append(
                {
                    **common,
                    "scorer": scorer,
                    "model_version": version,
                    "status": "insufficient_history",
                    "roc_auc": None,
                    "brier_score": None,
                    "beats_baseline": None,
                }
            )
        return result
    y, p_model, p_base = held_out_predictions(train, test, cols)
    (auc_m, brier_m), (auc_b, brier_b) = _metrics(y, p_model), _metrics(y, p_base)
    beats = auc_m is not None and auc_b is not None and auc_m > auc_b and brier_m < brier_b
    for scorer, version, auc, brier, p in (
        ("model", MODEL_VERSION, auc_m, brier_m, p_model),
        ("baseline", BASELINE_VERSION, auc_b, brier_b, p_base),
    ):
        result.evaluation.append(
            {
                **common,
                "scorer": scorer,
                "model_version": version,
                "status": "evaluated",
                "roc_auc": auc,
                "brier_score": brier,
                "beats_baseline": beats if scorer == "model" else None,
            }
        )
        result.calibration.extend(_calibration(task, scorer, y, p))
    return result


def score(rows: pd.DataFrame, cols: list[str], horizon_days: int, key: str) -> pd.DataFrame:
    """The rows of the last prediction time (the data's end), scored by a model trained on every row whose
    outcome is known; no rows when the known outcomes are too few to train on."""
    if rows.empty:
        return pd.DataFrame()
    now = rows["snapshot_at"].max()
    current = rows[rows["snapshot_at"] == now]
    known = rows[rows["label_known"]]
    positives = int(known["label"].sum()) if len(known) else 0
    if current.empty or positives < MIN_POSITIVES or positives == len(known):
        return pd.DataFrame()
    with one_thread():
        model = make_model().fit(known[cols].astype(float), known["label"].astype(int))
        probability = model.predict_proba(current[cols].astype(float))[:, 1]
    out = current[[key, "customer_key", *(["intent"] if "intent" in current else [])]].copy()
    out["probability"] = probability
    out["baseline_probability"] = Baseline().fit(known).predict(current)
    out["is_frequent_contacter_30d"] = (current["contacts_30d"] >= BASELINE_CONTACTS).to_numpy()
    out["predicted_at"] = now
    out["horizon_days"] = horizon_days
    out["model_version"] = MODEL_VERSION
    out["training_window_start"] = known["snapshot_at"].min()
    out["training_window_end"] = known["snapshot_at"].max() + horizon_days * DAY
    out["training_rows"] = len(known)
    return out.reset_index(drop=True)
