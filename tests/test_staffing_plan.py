"""Erlang C per interval, forecast and actual, with each queue's target (hand-computed in the comments)."""

from __future__ import annotations

import pandas as pd
import pytest

from contact_warehouse.staffing.plan import required_for_actuals, required_for_forecast

TARGETS = pd.DataFrame(
    {
        "queue": ["billing", "sales"],
        "service_level_target": [0.8, 0.8],
        "service_level_seconds": [20, 20],
        "max_occupancy": [1.0, 0.7],
        "shrinkage": [0.3, 0.3],
    }
)


def test_the_forecast_gets_agents_heads_and_expected_service() -> None:
    future = pd.DataFrame(
        {
            "queue": ["billing", "sales", "billing", "billing"],
            "forecast_offered": [100.0, 100.0, 0.0, 5.0],
            "forecast_aht_seconds": [180.0, 180.0, 180.0, float("nan")],
        }
    )
    planned = required_for_forecast(future, TARGETS, 30)
    # The textbook half hour (10 Erlangs): 14 agents for 80 % in 20 s (88.8 %, ASA 7.8 s); 14 / 0.7 = 20 heads.
    assert planned.loc[0, "required_agents"] == 14 and planned.loc[0, "required_heads"] == 20
    assert round(planned.loc[0, "expected_service_level"], 3) == 0.888
    assert round(planned.loc[0, "expected_asa_seconds"], 1) == 7.8
    # sales caps occupancy at 70 %: 15 agents (10 / 15), 15 / 0.7 = 21.4 -> 22 heads.
    assert planned.loc[1, "required_agents"] == 15 and planned.loc[1, "required_heads"] == 22
    # No call forecast: no agent, no service level to expect. No AHT: nothing to say (NULL, not 0).
    assert planned.loc[2, "required_agents"] == 0 and pd.isna(planned.loc[2, "expected_service_level"])
    assert pd.isna(planned.loc[3, "required_agents"])


def test_actual_intervals_are_under_or_over_staffed_against_erlang_c() -> None:
    intervals = pd.DataFrame(
        {
            "queue": ["billing", "billing", "billing"],
            "interval_minutes": [30, 30, 30],
            "service_level_seconds": [20, 20, 20],
            "offered_contacts": [100, 4, 0],
            "answered_contacts": [100, 0, 0],
            "handle_seconds": [18000, 0, 0],
            "agents_handling": [13, 0, 2],
            # The queue's recent AHT (actuals.planning_inputs), only where nothing was answered.
            "fallback_aht_seconds": [None, 180.0, 180.0],
        }
    )
    result = required_for_actuals(intervals, TARGETS)
    # 100 calls at 180 s handled by 13 agents: 14 were needed (gap -1); at 13 Erlang C expected 79.6 %.
    assert result.loc[0, "required_agents"] == 14 and result.loc[0, "staffing_gap"] == -1
    assert round(result.loc[0, "service_level_at_actual_agents"], 3) == 0.796
    # 4 calls all abandoned, nobody answering: the queue's recent AHT (180 s) stands in. A = 4 x 180 /
    # 1800 = 0.4 Erlangs; one agent: P(wait) = 0.4, SL(20 s) = 1 - 0.4 exp(-(1 - 0.4) x 20 / 180) = 0.6250 < 0.8;
    # two: B2 = 0.4 x (0.4/1.4) / (2 + 0.4 x 0.4/1.4) = 0.05405, C = 2 B / (2 - 0.4 (1 - B)) = 0.10811 / 1.62162
    # = 1/15 (closed form: (0.4^2/2 x 2/1.6) / (1 + 0.4 + 0.1) = 0.1 / 1.5), SL = 1 - exp(-1.6 x 20 / 180) / 15 =
    # 1 - 0.83713 / 15 = 0.9442. So 2 agents needed, 0 there: gap -2, expected SL 0.
    assert result.loc[1, "planning_aht_seconds"] == 180.0
    assert result.loc[1, "required_agents"] == 2 and result.loc[1, "staffing_gap"] == -2
    assert round(result.loc[1, "expected_service_level"], 4) == 0.9442
    assert result.loc[1, "service_level_at_actual_agents"] == 0.0
    # Agents still busy on earlier calls in an interval where nobody called: over-staffed by 2.
    assert result.loc[2, "required_agents"] == 0 and result.loc[2, "staffing_gap"] == 2


def test_a_queue_without_a_target_is_named() -> None:
    future = pd.DataFrame({"queue": ["claims"], "forecast_offered": [1.0], "forecast_aht_seconds": [60.0]})
    with pytest.raises(ValueError, match=r"no target for queue\(s\) \['claims'\]"):
        required_for_forecast(future, TARGETS, 30)
