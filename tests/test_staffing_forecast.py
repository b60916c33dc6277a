"""The staffing forecast: on generated calls with a planted daily and weekly pattern the chosen model beats the
weekly seasonal naive in the rolling-origin backtest; a forecast that cannot beat it falls back to it and says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contact_warehouse.staffing.forecast import BASELINE, forecast, local_series, to_utc

START = pd.Timestamp("2026-09-07")  # a Monday
WEEKDAY_FACTOR = np.array([1.3, 1.1, 1.0, 1.0, 0.9, 0.4, 0.25])  # Monday peak, quiet weekend


def daily_shape(hours: np.ndarray) -> np.ndarray:
    """Closed at night, a morning peak at 10:00 and a smaller one at 15:00 (local)."""
    open_hours = (hours >= 7) & (hours < 21)
    return open_hours * (np.exp(-((hours - 10) ** 2) / 4) + 0.6 * np.exp(-((hours - 15) ** 2) / 5) + 0.15)


def planted(queues: dict[str, float], days: int, seed: int = 7) -> pd.DataFrame:
    """Poisson calls per UTC half hour whose rate is the queue's peak x daily shape x weekday factor."""
    rng = np.random.default_rng(seed)
    starts = pd.date_range(START, periods=days * 48, freq="30min")
    hours = starts.hour + starts.minute / 60
    rows = []
    for queue, peak in queues.items():
        rate = peak * daily_shape(np.asarray(hours)) * WEEKDAY_FACTOR[starts.dayofweek]
        offered = rng.poisson(rate)
        handle = np.where(offered > 0, offered * rng.normal(300, 20, len(offered)), 0).round()
        rows.append(pd.DataFrame({"queue": queue, "interval_start_utc": starts, "offered_contacts": offered,
                                  "answered_contacts": offered, "handle_seconds": handle}))  # fmt: skip
    frame = pd.concat(rows, ignore_index=True)
    return frame[frame["offered_contacts"] > 0]  # the mart has no row for an interval without calls


def test_the_chosen_model_beats_the_seasonal_naive_on_a_planted_pattern() -> None:
    intervals = planted({"billing": 12.0, "sales": 5.0, "accounts": 2.0}, days=36)
    future, accuracy = forecast(intervals, "UTC", 30, horizon_days=14)
    by_queue = {a.queue: a for a in accuracy}
    for queue in ("billing", "sales", "accounts"):
        result = by_queue[queue]
        print(queue, result.best_candidate, result.candidate_wape, result.baseline_wape, result.candidate_mase,
              result.baseline_mase)  # fmt: skip
        assert result.backtest_windows == 3 and result.history_days == 36
        assert result.beats_baseline is True and result.chosen_model != BASELINE
        assert result.chosen_wape < result.baseline_wape and result.candidate_mase < result.baseline_mase
    # 14 days of half hours per queue, from the half hour after the last call (20:30-21:00), never negative.
    assert len(future) == 3 * 14 * 48
    assert intervals["interval_start_utc"].max() == START + pd.Timedelta(days=35, hours=20, minutes=30)
    assert future["interval_start_local"].min() == START + pd.Timedelta(days=35, hours=21)
    assert (future["forecast_offered"] >= 0).all()
    # The planted pattern is in the forecast: Monday 10:00 is busier than Sunday 10:00 and than Monday 03:00.
    billing = future[future["queue"] == "billing"].set_index("interval_start_local")["forecast_offered"]
    monday = START + pd.Timedelta(days=42)
    assert billing[monday + pd.Timedelta(hours=10)] > 2 * billing[monday + pd.Timedelta(days=6, hours=10)]
    assert billing[monday + pd.Timedelta(hours=10)] > 5 * max(billing[monday + pd.Timedelta(hours=3)], 0.1)
    # AHT: the planted 300 s per call (the slot averages of a few intervals whose handle time varies by 20 s).
    assert future["forecast_aht_seconds"].dropna().between(260, 340).all()


def test_a_pattern_the_baseline_already_gets_right_falls_back_to_it_and_says_so() -> None:
    # The same calls every week: last week's interval is exact (WAPE 0), no model can do better.
    week = planted({"billing": 8.0}, days=7, seed=3)
    repeated = pd.concat([week.assign(interval_start_utc=week["interval_start_utc"] + pd.Timedelta(weeks=k))
                          for k in range(5)])  # fmt: skip
    future, (result,) = forecast(repeated, "UTC", 30, horizon_days=7)
    assert result.baseline_wape == 0.0
    assert result.beats_baseline is False and result.chosen_model == BASELINE
    assert "no model beats the seasonal naive" in result.note
    assert set(future["forecast_model"]) == {BASELINE}


def test_too_short_a_history_has_no_backtest_and_says_so() -> None:
    future, (result,) = forecast(planted({"billing": 8.0}, days=10), "UTC", 30, horizon_days=2)
    assert result.backtest_windows == 0 and result.beats_baseline is None and result.chosen_model == BASELINE
    assert "backtest needs 21" in result.note and "seasonal_naive used" in result.note
    assert len(future) == 2 * 48 and set(future["forecast_model"]) == {BASELINE}


def test_a_history_shorter_than_a_day_is_forecast_by_its_mean_never_nan() -> None:
    # Three calls one morning: no season to repeat (the seasonal naive would give NaN for most intervals).
    starts = pd.to_datetime(["2026-10-05 09:00", "2026-10-05 10:00", "2026-10-05 11:30"])
    intervals = pd.DataFrame({"queue": "billing", "interval_start_utc": starts, "offered_contacts": [1, 2, 1],
                              "answered_contacts": [1, 2, 0], "handle_seconds": [300, 500, 0]})  # fmt: skip
    future, (result,) = forecast(intervals, "UTC", 30, horizon_days=1)
    assert result.chosen_model == "historic_average" and "historic_average used" in result.note
    # 00:00-11:30 is 24 half hours with 4 calls: 1/6 per half hour.
    assert future["forecast_offered"].notna().all() and future["forecast_offered"].round(4).eq(round(4 / 24, 4)).all()


def test_local_time_across_daylight_saving() -> None:
    # New York, 2026-11-01: 05:00 UTC is 01:00 EDT and 06:00 UTC is 01:00 EST: one local half hour with both.
    starts = pd.to_datetime(["2026-11-01 05:00", "2026-11-01 06:00"])
    intervals = pd.DataFrame({"queue": "billing", "interval_start_utc": starts, "offered_contacts": [2, 3],
                              "answered_contacts": [2, 3], "handle_seconds": [600, 900]})  # fmt: skip
    series = local_series(intervals, "America/New_York", 30)
    assert len(series) == 3 and series["offered"].sum() == 5  # 00:00, 00:30 and 01:00 local
    assert series.set_index("ds").loc[pd.Timestamp("2026-11-01 01:00"), "offered"] == 5
    # Back to UTC: the repeated 01:00 is its first (EDT) occurrence; 02:30 on 2026-03-08 never happened.
    local = pd.Series(pd.to_datetime(["2026-11-01 01:00", "2026-03-08 02:30", "2026-03-08 03:00"]))
    assert to_utc(local, "America/New_York").tolist()[0] == pd.Timestamp("2026-11-01 05:00")
    assert pd.isna(to_utc(local, "America/New_York")[1])
    assert to_utc(local, "America/New_York")[2] == pd.Timestamp("2026-03-08 07:00")


def test_bad_parameters_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="staffing_interval_minutes"):
        forecast(planted({"billing": 1.0}, days=7), "UTC", 20, 14)
    with pytest.raises(ValueError, match="forecast_horizon_days"):
        forecast(planted({"billing": 1.0}, days=7), "UTC", 30, 0)
