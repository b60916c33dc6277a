"""The prediction models' median imputation (predictions/models.py ``MedianImputer``, issue 22) gives scikit-learn's
``SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)`` to the last bit, and the model
fitted with it the same coefficients and probabilities. Synthetic matrices: no warehouse build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from contact_warehouse.predictions.models import MedianImputer, make_model


def _matrix(rows: int, seed: int) -> pd.DataFrame:
    """Columns with every kind of missingness: none, some (odd and even counts of values), all; repeated values
    (medians of ties), negative and fractional ones."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "complete": rng.normal(size=rows),
            "some": rng.exponential(3.0, size=rows),
            "ties": rng.integers(0, 4, size=rows).astype(float),
            "sparse": rng.normal(-2.0, 5.0, size=rows),
            "empty": np.full(rows, np.nan),
        }
    )
    x.loc[rng.random(rows) < 0.3, "some"] = np.nan
    x.loc[rng.random(rows) < 0.5, "ties"] = np.nan
    x.loc[rng.random(rows) < 0.97, "sparse"] = np.nan
    return x


def _sklearn_imputer() -> SimpleImputer:
    return SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True, copy=False)


@pytest.mark.parametrize("rows", [1, 2, 7, 8, 1001, 1002])
def test_the_median_imputer_is_scikit_learns_to_the_last_bit(rows) -> None:
    train, test = _matrix(rows, seed=rows), _matrix(50, seed=rows + 1)
    ours, theirs = MedianImputer().fit(train.copy()), _sklearn_imputer().fit(train.copy())
    assert np.array_equal(ours.statistics_, theirs.statistics_)
    # The training rows and other rows (with missing values where training had none) transform alike.
    for x in (train, test, test.fillna(1.5)):
        expected = _sklearn_imputer().fit(train.copy()).transform(x.copy())
        got = MedianImputer().fit(train.copy()).transform(x.copy())
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(got, expected)


def test_the_model_is_the_same_with_either_imputer() -> None:
    train, test = _matrix(3000, seed=5), _matrix(500, seed=6)
    y = (train["complete"].fillna(0) + np.random.default_rng(7).normal(size=len(train)) > 0.5).astype(int)
    theirs = Pipeline(
        [
            ("impute", _sklearn_imputer()),
            ("scale", StandardScaler(copy=False)),
            ("model", LogisticRegression(C=0.05, max_iter=2000)),
        ]
    )
    theirs.fit(train.copy(), y)
    ours = make_model().fit(train.copy(), y)
    assert np.array_equal(ours[-1].coef_, theirs[-1].coef_)
    assert np.array_equal(ours.predict_proba(test.copy()), theirs.predict_proba(test.copy()))


def test_the_fits_and_predictions_run_on_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """``held_out_predictions`` and ``score`` fit inside ``one_thread`` (issue 22: a second OpenBLAS thread only
    spins on these small products); the limit is lifted after."""
    from threadpoolctl import threadpool_info

    from contact_warehouse.predictions import models

    seen: list[int] = []

    class Recording(LogisticRegression):
        def fit(self, X, y, sample_weight=None):  # noqa: N803 (scikit-learn's name)
            seen.append(max(pool["num_threads"] for pool in threadpool_info()))
            return super().fit(X, y, sample_weight)

    def recording_model() -> Pipeline:
        pipeline = make_model()
        pipeline.steps[-1] = ("model", Recording(C=0.05, max_iter=2000))
        return pipeline

    monkeypatch.setattr(models, "make_model", recording_model)
    threads = [pool["num_threads"] for pool in threadpool_info()]
    train = _matrix(300, seed=8).assign(contacts_30d=lambda d: d["ties"].fillna(0))
    train["label"] = train["complete"] > 0
    train["label_known"] = True
    train["snapshot_at"] = pd.Timestamp("2026-10-01")
    models.held_out_predictions(train, train, ["complete", "some", "sparse"])
    scored = models.score(train.assign(key="k", customer_key="c"), ["complete", "some"], 7, "key")
    assert seen == [1, 1] and len(scored) == len(train)
    assert [pool["num_threads"] for pool in threadpool_info()] == threads  # the limit is lifted after
