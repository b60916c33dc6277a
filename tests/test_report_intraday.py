"""The report's intraday staffing view, on a small serving file written by hand."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from contact_warehouse.report import intraday
from contact_warehouse.report.data import Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.panels import build


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            """create table marts.mart_staffing_actuals as select * from (values
                ('billing', 30, timestamp '2026-11-02 09:00', timestamp '2026-11-02 14:00', 4, 2, 3, 0.5, 0.8),
                ('billing', 30, timestamp '2026-11-02 10:00', timestamp '2026-11-02 15:00', 2, 1, 1, 1.0, 0.8),
                ('sales', 30, timestamp '2026-11-02 09:00', timestamp '2026-11-02 14:00', 1, 1, 1, 1.0, 0.8),
                ('billing', 15, timestamp '2026-11-02 09:00', timestamp '2026-11-02 14:00', 2, 2, 2, 0.5, 0.8)
            ) as t(queue, interval_minutes, interval_start_local, interval_start_utc, offered_contacts,
                   agents_handling, required_agents, service_level, service_level_target)"""
        )
        con.execute(
            """create table marts.mart_staffing_forecast as select * from (values
                ('billing', 30, timestamp '2026-11-03 09:00', timestamp '2026-11-03 14:00', 3.5, 3, 0.9, 0.8),
                ('sales', 30, timestamp '2026-11-03 09:00', timestamp '2026-11-03 14:00', 0.5, 1, 0.95, 0.8)
            ) as t(queue, interval_minutes, interval_start_local, interval_start_utc, forecast_offered,
                   required_agents, expected_service_level, service_level_target)"""
        )
        con.execute(
            """create table marts.mart_staffing_forecast_accuracy as select * from (values
                ('billing', 'mstl', true, 0.4, 0.5, 0.8, 0.9, 3, 'mstl beats the seasonal naive'),
                ('sales', 'seasonal_naive', false, 0.7, 0.6, 1.1, 1.0, 3, 'no model beats the seasonal naive')
            ) as t(queue, chosen_model, beats_baseline, candidate_wape, baseline_wape, candidate_mase,
                   baseline_mase, backtest_windows, note)"""
        )
    return path


def test_one_queue_at_a_time_past_filled_then_forecast(serving: Path) -> None:
    with Serving(serving) as db:
        fig, caption = intraday.intraday(db, Definitions())
    labels = [b["label"] for b in fig.layout.updatemenus[0].buttons]
    assert labels == ["billing", "sales"]
    per_queue = len(fig.data) // 2
    assert [t.visible for t in fig.data] == [True] * per_queue + [False] * per_queue
    offered = fig.data[0]
    # 30-minute intervals only; 09:30 had no row (no call, nobody busy): 0 offered, no service level.
    assert [pd.Timestamp(x) for x in offered.x] == [
        pd.Timestamp("2026-11-02 09:00"), pd.Timestamp("2026-11-02 09:30"), pd.Timestamp("2026-11-02 10:00")
    ]  # fmt: skip
    assert list(offered.y) == [4, 0, 2]
    forecast = fig.data[1]
    assert list(forecast.y) == [3.5] and pd.Timestamp(forecast.x[0]) == pd.Timestamp("2026-11-03 09:00")
    service = next(t for t in fig.data[:per_queue] if t.name == "service level")
    assert list(service.y)[0] == 50.0 and list(service.y)[2] == 100.0
    assert list(service.marker.color)[0] == "#c0392b" and list(service.marker.color)[2] == "#1f8a5b"
    assert "forecast" in caption


def test_the_backtest_table_says_which_queue_fell_back(serving: Path) -> None:
    with Serving(serving) as db:
        table, _ = intraday.accuracy(db, Definitions())
    assert '<td class="text good">mstl</td>' in table
    assert '<td class="text bad">seasonal_naive</td>' in table and "no model beats the seasonal naive" in table


def test_an_older_serving_file_without_staffing_marts_shows_not_available(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
    with Serving(path) as db:
        panel = build("staffing-intraday", "Intraday", lambda: intraday.intraday(db, Definitions()))
    assert panel.missing == "mart_staffing_actuals, mart_staffing_forecast missing"
