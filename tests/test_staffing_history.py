"""The forecast's bounded history (var forecast_history_weeks): a history longer than the bound is forecast exactly
as its last weeks alone, whatever came before; a shorter history is forecast as without the bound; the dbt body
reads only the bounded days from the database and gives the library's result."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from contact_warehouse.engine.python_models import Params, staffing_forecast
from contact_warehouse.staffing.forecast import accuracy_frame, forecast
from tests.test_staffing_forecast import START, planted

ZONE = "America/New_York"  # the bounded weeks span the night the clocks go back (2026-11-01)


def _with_calls_at(intervals: pd.DataFrame, *utc_starts: str) -> pd.DataFrame:
    extra = pd.DataFrame({"queue": "billing", "interval_start_utc": pd.to_datetime(list(utc_starts)),
                          "offered_contacts": 1, "answered_contacts": 1, "handle_seconds": 300.0})  # fmt: skip
    return pd.concat([intervals, extra], ignore_index=True)


def _long_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """56 days from 2026-09-07 with a late-night call on the last day (23:30 local), and the same rows from the
    first interval of the last 5 weeks (00:00 local, 35 days before the day after the last) on: that history's
    grid starts where the bound cuts the long one."""
    intervals = planted({"billing": 6.0, "sales": 3.0}, days=56, seed=11).astype({"handle_seconds": float})
    # Older weeks twice as busy: a forecast that still read them would differ.
    old = intervals["interval_start_utc"] < START + pd.Timedelta(days=21)
    intervals.loc[old, ["offered_contacts", "answered_contacts"]] *= 2
    last_local = START + pd.Timedelta(days=55, hours=23, minutes=30)  # 2026-11-01 23:30 EST = 2026-11-02 04:30 UTC
    first_local = last_local - pd.Timedelta(weeks=5) + pd.Timedelta(minutes=30)  # 2026-09-28 00:00 EDT
    assert first_local == pd.Timestamp("2026-09-28 00:00")
    intervals = _with_calls_at(intervals, "2026-11-02 04:30", "2026-09-28 04:00")
    window = intervals[intervals["interval_start_utc"] >= pd.Timestamp("2026-09-28 04:00")]
    return intervals, window


def _same(left: tuple[pd.DataFrame, list], right: tuple[pd.DataFrame, list]) -> None:
    assert_frame_equal(left[0], right[0])
    assert_frame_equal(accuracy_frame(left[1]), accuracy_frame(right[1]))


def test_a_history_longer_than_the_bound_is_forecast_as_its_last_weeks_alone() -> None:
    intervals, window = _long_history()
    bounded = forecast(intervals, ZONE, 30, horizon_days=7, history_weeks=5)
    _same(bounded, forecast(window, ZONE, 30, horizon_days=7))
    # The bound did cut something that mattered: without it, the busier old weeks change the forecast.
    unbounded = forecast(intervals, ZONE, 30, horizon_days=7)
    assert not bounded[0]["forecast_offered"].equals(unbounded[0]["forecast_offered"])
    assert {a.history_days for a in bounded[1]} == {35} and {a.history_days for a in unbounded[1]} == {56}
    assert {a.backtest_windows for a in bounded[1]} == {3}


def test_a_history_shorter_than_the_bound_is_forecast_as_without_it() -> None:
    # 35 days ending at 20:30 local: shorter than 5 whole weeks by the evening of the last day.
    intervals = planted({"billing": 6.0, "sales": 3.0}, days=35, seed=5)
    unbounded = forecast(intervals, "UTC", 30, horizon_days=3)
    _same(forecast(intervals, "UTC", 30, horizon_days=3, history_weeks=5), unbounded)
    _same(forecast(intervals, "UTC", 30, horizon_days=3, history_weeks=52), unbounded)


def test_the_dbt_body_reads_the_bounded_days_and_gives_the_librarys_forecast() -> None:
    intervals, _ = _long_history()
    # The mart's columns the body reads, for both interval lengths (the body keeps one), and every queue's target.
    mart = pd.concat([intervals.assign(interval_minutes=30), intervals.assign(interval_minutes=15)])
    targets = pd.DataFrame({"queue": ["billing", "sales"], "service_level_target": 0.8, "service_level_seconds": 20,
                            "max_occupancy": 0.85, "shrinkage": 0.3})  # fmt: skip
    con = duckdb.connect()
    inputs = {"mart_staffing_queue_intervals": con.from_df(mart), "int_queue_service_levels": con.from_df(targets)}
    params = Params(staffing_interval_minutes=30, forecast_horizon_days=7, forecast_history_weeks=5,
                    reporting_timezone=ZONE)  # fmt: skip
    body = staffing_forecast(inputs, params)
    future, accuracy = forecast(intervals, ZONE, 30, horizon_days=7, history_weeks=5)
    assert len(body) == len(future) and body["queue"].tolist() == future["queue"].tolist()
    assert body["forecast_offered"].tolist() == future["forecast_offered"].tolist()
    assert body["forecast_aht_seconds"].tolist() == future["forecast_aht_seconds"].tolist()
    assert set(body["history_days"]) == {35}


def test_a_bound_shorter_than_the_backtest_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="forecast_history_weeks must be at least 3"):
        forecast(planted({"billing": 1.0}, days=7), "UTC", 30, 7, history_weeks=2)


def test_the_accuracy_bench_scores_each_bound_on_the_same_weeks() -> None:
    from contact_warehouse.staffing.bench import accuracy_by_bound
    from contact_warehouse.staffing.forecast import local_series

    series = local_series(planted({"billing": 6.0}, days=42, seed=2), "UTC", 30)
    table = accuracy_by_bound(series, [3, None], origins=1).set_index(["bound_weeks", "forecaster"])
    assert set(table.index) == {(b, f) for b in (3, "all") for f in ("chosen", "mstl", "seasonal_naive")}
    # The seasonal naive reads only the last week: the same errors at every bound, so the bounds are scored alike.
    assert table.loc[(3, "seasonal_naive"), "wape"] == table.loc[("all", "seasonal_naive"), "wape"]
    assert table.loc[(3, "mstl"), "wape"] != table.loc[("all", "mstl"), "wape"]
    assert table["wape"].between(0, 1).all() and table.loc[(3, "chosen"), "cpu_seconds"] > 0
