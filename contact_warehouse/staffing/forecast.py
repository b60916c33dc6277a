"""Forecast of offered calls and AHT per queue and interval, chosen by a rolling-origin backtest.

Offered calls per interval are forecast on the reporting zone's wall clock (people call at 09:00 local, summer
or winter) with statsforecast. Candidates with a daily and a weekly seasonality (MSTL: two STL seasonal
components and an ETS trend; the seasonal window average: the mean of the same slot over the last weeks) are
compared with the weekly seasonal naive (the same interval last week) on rolling origins: each of the last
weeks of history is forecast from the data before it. The candidate with the lowest WAPE is kept only when it
beats the baseline; otherwise the baseline is the forecast, and the accuracy table says so.

AHT per interval is the ratio of handle seconds to answered calls in the same weekday and time slot over the
history (too few calls there: the same time of day on every day; then the queue's overall AHT): interval AHT is
undefined where nothing was answered, so it is not a series a forecasting model can take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

BASELINE = "seasonal_naive"
CANDIDATES = ("mstl", "seasonal_window_average")
# The backtest forecasts one week at a time, from origins one week apart, with at least two weeks before the
# first origin (MSTL's weekly component and the baseline need two whole weeks).
BACKTEST_WEEKS = 3
MIN_TRAINING_WEEKS = 2
# STL's LOESS fitted every few points and interpolated (Cleveland et al. 1990's "jump"): a weekly season of 336
# half hours took 1.4 s per fit without it, 0.2 s with it, for the same backtest error on the bundled sample.
STL_JUMPS = {"seasonal_jump": 5, "trend_jump": 10, "low_pass_jump": 5}
# AHT of a weekday-time slot needs this many answered calls behind it, else the time-of-day slot, else the queue.
MIN_AHT_CALLS = 10


@dataclass(frozen=True)
class Accuracy:
    """One queue's backtest: the candidates' and the baseline's errors, and the model the forecast uses."""

    queue: str
    chosen_model: str
    best_candidate: str | None
    candidate_wape: float | None
    baseline_wape: float | None
    candidate_mase: float | None
    baseline_mase: float | None
    chosen_wape: float | None
    chosen_mase: float | None
    beats_baseline: bool | None
    backtest_windows: int
    history_days: int
    note: str


def local_series(
    intervals: pd.DataFrame, zone: str, interval_minutes: int, history_weeks: int | None = None
) -> pd.DataFrame:
    """Offered calls, answered calls and handle seconds per queue on a regular local-time grid.

    `intervals` has queue, interval_start_utc (naive UTC), offered_contacts, answered_contacts, handle_seconds.
    An interval without a row had no call: 0. The repeated local hour of the night the clocks go back is one
    local hour with both hours' calls; the skipped hour in spring is an interval with no calls.

    With `history_weeks`, the grid keeps only the last `history_weeks` whole weeks of intervals up to the last one
    (exactly that many weekly seasons; a shorter history is unchanged), and only the queues with a row in them."""
    columns = ["queue", "ds", "offered", "answered", "handle_seconds"]
    if intervals.empty:
        return pd.DataFrame(columns=columns)
    frame = intervals.copy()
    utc = pd.to_datetime(frame["interval_start_utc"]).dt.tz_localize("UTC")
    frame["ds"] = utc.dt.tz_convert(zone).dt.tz_localize(None).dt.floor(f"{interval_minutes}min")
    grouped = (
        frame.groupby(["queue", "ds"], as_index=False)
        .agg(
            offered=("offered_contacts", "sum"),
            answered=("answered_contacts", "sum"),
            handle_seconds=("handle_seconds", "sum"),
        )
        .astype({"offered": float, "answered": float, "handle_seconds": float})
    )
    # From the first local midnight to the last interval with a call in any queue: the night after the last call
    # of an export is not known to be quiet, and the forecast starts at the next interval.
    first, last = grouped["ds"].min().normalize(), grouped["ds"].max()
    if history_weeks is not None:
        first = max(first, history_start(last, interval_minutes, history_weeks))
        grouped = grouped[grouped["ds"] >= first]
    grid = pd.date_range(first, last, freq=f"{interval_minutes}min")
    full = pd.MultiIndex.from_product([sorted(grouped["queue"].unique()), grid], names=["queue", "ds"])
    return grouped.set_index(["queue", "ds"]).reindex(full, fill_value=0.0).reset_index()[columns]


def check_history_weeks(history_weeks: int | None) -> None:
    """A bound shorter than the backtest's minimum (two weeks of training and one week forecast) is refused."""
    if history_weeks is not None and history_weeks < MIN_TRAINING_WEEKS + 1:
        raise ValueError(
            f"forecast_history_weeks must be at least {MIN_TRAINING_WEEKS + 1} (two weeks of training and one of "
            f"backtest), got {history_weeks}"
        )


def history_start(last: pd.Timestamp, interval_minutes: int, history_weeks: int) -> pd.Timestamp:
    """The first local interval of the `history_weeks` weeks that end with the interval starting at `last`."""
    return last - pd.Timedelta(weeks=history_weeks) + pd.Timedelta(minutes=interval_minutes)


def read_window_days(history_weeks: int) -> int:
    """Days of UTC interval starts before the last one that hold every interval of a bounded history: its weeks
    plus one day, more than any change of the zone's UTC offset between the first and the last interval."""
    return 7 * history_weeks + 1


def _models(daily: int, weekly: int) -> dict[str, object]:
    from statsforecast.models import MSTL, AutoETS, HistoricAverage, SeasonalNaive, SeasonalWindowAverage

    return {
        # Fallbacks for a short history, never candidates: less than a week, then less than a day.
        "daily_seasonal_naive": SeasonalNaive(season_length=daily, alias="daily_seasonal_naive"),
        "historic_average": HistoricAverage(alias="historic_average"),
        "mstl": MSTL(
            season_length=[daily, weekly], trend_forecaster=AutoETS(model="ZNN"), stl_kwargs=STL_JUMPS, alias="mstl"
        ),
        "seasonal_window_average": SeasonalWindowAverage(
            season_length=weekly, window_size=MIN_TRAINING_WEEKS, alias="seasonal_window_average"
        ),
        BASELINE: SeasonalNaive(season_length=weekly, alias=BASELINE),
    }


def _wape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    total = float(np.abs(actual).sum())
    return float(np.abs(actual - predicted).sum()) / total if total > 0 else None


def _mase(actual: np.ndarray, predicted: np.ndarray, scale: float | None) -> float | None:
    return float(np.abs(actual - predicted).mean()) / scale if scale else None


def backtest(series: pd.DataFrame, interval_minutes: int, weeks: int = BACKTEST_WEEKS) -> list[Accuracy]:
    """Rolling-origin backtest per queue: WAPE and MASE of each candidate and of the weekly seasonal naive.

    MASE scales the mean absolute error by the in-sample mean absolute error of the weekly seasonal naive on the
    history before the first origin (Hyndman and Koehler 2006), so a MASE under the baseline's is a better model."""
    from statsforecast import StatsForecast

    daily = 24 * 60 // interval_minutes
    weekly = 7 * daily
    results = []
    for queue, history in series.groupby("queue", sort=True):
        days = round(len(history) / daily)
        windows = min(weeks, len(history) // weekly - MIN_TRAINING_WEEKS)
        if windows < 1:
            # No backtest: last week's interval; with less than a week, yesterday's; with less than a day, the mean.
            fallback = "historic_average"
            if len(history) >= weekly:
                fallback = BASELINE
            elif len(history) >= daily:
                fallback = "daily_seasonal_naive"
            results.append(
                Accuracy(
                    str(queue), fallback, None, None, None, None, None, None, None, None, 0, days,
                    f"{days} days of history: the backtest needs {7 * (MIN_TRAINING_WEEKS + 1)}; {fallback} used",
                )
            )  # fmt: skip
            continue
        frame = pd.DataFrame({"unique_id": queue, "ds": history["ds"].values, "y": history["offered"].values})
        models = {name: model for name, model in _models(daily, weekly).items() if name in (*CANDIDATES, BASELINE)}
        engine = StatsForecast(models=list(models.values()), freq=f"{interval_minutes}min", n_jobs=1)
        folds = engine.cross_validation(df=frame, h=weekly, n_windows=windows, step_size=weekly)
        actual = folds["y"].to_numpy()
        training = frame["y"].to_numpy()[: len(frame) - windows * weekly]
        scale = float(np.abs(training[weekly:] - training[:-weekly]).mean()) if len(training) > weekly else None
        wape = {name: _wape(actual, folds[name].clip(lower=0).to_numpy()) for name in models}
        mase = {name: _mase(actual, folds[name].clip(lower=0).to_numpy(), scale) for name in models}
        candidates = [name for name in CANDIDATES if wape[name] is not None]
        best = min(candidates, key=lambda name: wape[name]) if candidates else None
        base = wape[BASELINE]
        if best is None or base is None:
            beats, chosen, note = None, BASELINE, "no call in the backtest weeks: seasonal naive used"
        elif wape[best] < base:
            beats, chosen = True, best
            note = f"{best} beats the seasonal naive: WAPE {wape[best]:.3f} against {base:.3f}"
        else:
            beats, chosen = False, BASELINE
            note = f"no model beats the seasonal naive (best {best}: WAPE {wape[best]:.3f} against {base:.3f})"
        results.append(
            Accuracy(
                str(queue), chosen, best, wape.get(best), base, mase.get(best), mase[BASELINE],
                wape[chosen], mase[chosen], beats, windows, days, note,
            )
        )  # fmt: skip
    return results


def forecast_offered(
    series: pd.DataFrame, accuracy: list[Accuracy], interval_minutes: int, horizon_days: int
) -> pd.DataFrame:
    """Offered calls per queue and local interval for `horizon_days` after the history, by each queue's model."""
    from statsforecast import StatsForecast

    daily = 24 * 60 // interval_minutes
    weekly = 7 * daily
    frames = []
    for result in accuracy:
        history = series[series["queue"] == result.queue]
        frame = pd.DataFrame({"unique_id": result.queue, "ds": history["ds"].values, "y": history["offered"].values})
        model, name = _models(daily, weekly)[result.chosen_model], result.chosen_model
        engine = StatsForecast(models=[model], freq=f"{interval_minutes}min", n_jobs=1)
        predicted = engine.forecast(df=frame, h=horizon_days * daily)
        frames.append(
            pd.DataFrame(
                {
                    "queue": result.queue,
                    "ds": pd.to_datetime(predicted["ds"]).to_numpy(),
                    "forecast_offered": predicted[name].clip(lower=0).to_numpy(),
                    "forecast_model": name,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["queue", "ds", "forecast_offered", "forecast_model"])
    return pd.concat(frames, ignore_index=True)


def forecast_aht(series: pd.DataFrame, future: pd.DataFrame) -> pd.Series:
    """AHT for each future row (queue, ds): handle seconds / answered calls of the same weekday and time slot,
    else of the same time of day, else of the queue, over the whole history; NaN for a queue never answered."""
    history = series.assign(weekday=series["ds"].dt.dayofweek, slot=series["ds"].dt.time)
    target = future.assign(weekday=future["ds"].dt.dayofweek, slot=future["ds"].dt.time)
    levels = [["queue", "weekday", "slot"], ["queue", "slot"], ["queue"]]
    aht = pd.Series(np.nan, index=target.index)
    for keys in levels:
        sums = history.groupby(keys)[["handle_seconds", "answered"]].sum()
        sums = sums[sums["answered"] >= (MIN_AHT_CALLS if keys != ["queue"] else 1)]
        ratio = (sums["handle_seconds"] / sums["answered"]).rename("ratio").reset_index()
        found = target[keys].merge(ratio, on=keys, how="left")["ratio"].to_numpy()
        aht = aht.fillna(pd.Series(found, index=target.index))
    return aht


def to_utc(local: pd.Series, zone: str) -> pd.Series:
    """Naive local wall-clock times to naive UTC: a repeated time takes its first (summer) occurrence, a time
    the clocks skip is NaT (that interval does not exist)."""
    localized = pd.to_datetime(local).dt.tz_localize(zone, ambiguous=np.ones(len(local), dtype=bool), nonexistent="NaT")
    return localized.dt.tz_convert("UTC").dt.tz_localize(None)


def forecast(
    intervals: pd.DataFrame, zone: str, interval_minutes: int, horizon_days: int, history_weeks: int | None = None
) -> tuple[pd.DataFrame, list[Accuracy]]:
    """Offered calls and AHT per queue and interval for `horizon_days` from the interval after the last call, with
    each queue's backtest. Columns: queue, interval_start_local, interval_start_utc, forecast_offered,
    forecast_aht_seconds, forecast_model.

    With `history_weeks`, the models, the backtest and the AHT slots learn from the last `history_weeks` weeks only
    (`local_series`): the cost stops growing with the history, and a shorter history is forecast as before."""
    if interval_minutes not in (15, 30):
        raise ValueError(
            f"staffing_interval_minutes must be 15 or 30 (the interval marts' lengths), got {interval_minutes}"
        )
    if horizon_days < 1:
        raise ValueError(f"forecast_horizon_days must be at least 1, got {horizon_days}")
    check_history_weeks(history_weeks)
    series = local_series(intervals, zone, interval_minutes, history_weeks)
    accuracy = backtest(series, interval_minutes)
    future = forecast_offered(series, accuracy, interval_minutes, horizon_days)
    future["forecast_aht_seconds"] = forecast_aht(series, future) if len(future) else []
    future["interval_start_utc"] = to_utc(future["ds"], zone) if len(future) else []
    future = future[future["interval_start_utc"].notna()].rename(columns={"ds": "interval_start_local"})
    ordered = ["queue", "interval_start_local", "interval_start_utc", "forecast_offered", "forecast_aht_seconds"]
    return future[[*ordered, "forecast_model"]].reset_index(drop=True), accuracy


def accuracy_frame(accuracy: list[Accuracy]) -> pd.DataFrame:
    """The backtest as a table, one row per queue."""
    fields = list(Accuracy.__dataclass_fields__)
    return pd.DataFrame([[getattr(a, f) for f in fields] for a in accuracy], columns=fields)


def is_missing(value: object) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))
