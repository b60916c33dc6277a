"""Erlang C against the textbook case and against values worked out by hand (in the comments)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from contact_warehouse.staffing.erlang import (
    agents_needed,
    erlang_b,
    erlang_c,
    scheduled_heads,
    staffing_at,
    traffic_erlangs,
)


def test_the_textbook_case_needs_14_agents() -> None:
    # 100 calls per 30 minutes at an AHT of 180 s: A = 100 x 180 / 1800 = 10 Erlangs; target 80 % in 20 s.
    assert traffic_erlangs(100, 180, 1800) == 10
    thirteen = staffing_at(13, 100, 180, 1800, threshold_seconds=20)
    assert round(thirteen.service_level, 3) == 0.796  # just under the target
    needed = agents_needed(100, 180, 1800, service_level_target=0.8, threshold_seconds=20, max_occupancy=1)
    assert needed.agents == 14
    assert round(needed.service_level, 3) == 0.888
    assert round(needed.asa_seconds, 1) == 7.8
    assert needed.occupancy == pytest.approx(10 / 14)


def test_two_agents_on_one_erlang_by_hand() -> None:
    # A = 1 (60 calls an hour at 60 s), N = 2. Erlang B: B1 = 1/(1+1) = 1/2, B2 = 1 x 1/2 / (2 + 1/2) = 1/5.
    # Erlang C = N B / (N - A (1 - B)) = 2/5 / (2 - 4/5) = 1/3 (closed form: (A^2/2! x 2) / (1 + 1 + 1) = 1/3).
    # ASA = C x AHT / (N - A) = 1/3 x 60 / 1 = 20 s; SL(20 s) = 1 - 1/3 x exp(-(2 - 1) x 20 / 60) = 0.761156.
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    two = staffing_at(2, 60, 60, 3600, threshold_seconds=20)
    assert two.asa_seconds == pytest.approx(20.0)
    assert two.service_level == pytest.approx(1 - math.exp(-1 / 3) / 3)
    assert round(two.service_level, 6) == 0.761156
    assert two.occupancy == pytest.approx(0.5)


def test_one_agent_is_the_m_m_1_queue() -> None:
    # N = 1: B = A / (1 + A) and C = B / (1 - A (1 - B)) = A, the M/M/1 utilisation. 15 calls an hour at 120 s:
    # A = 15 x 120 / 3600 = 0.5, so P(wait) = 0.5, ASA = 0.5 x 120 / (1 - 0.5) = 120 s, SL(0 s) = 1 - 0.5 = 0.5.
    one = staffing_at(1, 15, 120, 3600, threshold_seconds=0)
    assert one.traffic_erlangs == pytest.approx(0.5)
    assert one.probability_of_waiting == pytest.approx(0.5)
    assert one.asa_seconds == pytest.approx(120.0)
    assert one.service_level == pytest.approx(0.5)


def test_the_recursion_matches_the_factorial_formula_exactly() -> None:
    # An independent computation in exact fractions with the textbook's A^N / N! form, for A = 10, N = 14:
    # C = (A^N/N! x N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! x N/(N-A)).
    a, n = Fraction(10), 14
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    exact = top / (sum(a**k / math.factorial(k) for k in range(n)) + top)
    assert erlang_c(n, 10.0) == pytest.approx(float(exact), rel=1e-12)
    assert round(float(exact), 4) == 0.1741  # the textbook's probability of waiting at 14 agents


def test_the_occupancy_cap_adds_agents() -> None:
    # The textbook queue at 14 agents runs at 10/14 = 71.4 % occupancy; a 70 % cap needs 15 (10/15 = 66.7 %).
    capped = agents_needed(100, 180, 1800, 0.8, 20, max_occupancy=0.7)
    assert capped.agents == 15
    assert capped.occupancy == pytest.approx(2 / 3)


def test_too_few_agents_never_empty_the_queue() -> None:
    # 10 Erlangs on 10 agents: everyone waits, nobody within the threshold, the wait grows without bound.
    ten = staffing_at(10, 100, 180, 1800)
    assert ten.probability_of_waiting == 1.0 and ten.service_level == 0.0 and ten.asa_seconds == math.inf


def test_no_contacts_need_no_agents_and_have_no_rates() -> None:
    none = agents_needed(0, 180, 1800)
    assert none.agents == 0 and none.service_level is None and none.asa_seconds is None


def test_large_queues_do_not_overflow() -> None:
    # 5,000 Erlangs: A^N / N! overflows a float long before N = 5,000; the recursion does not. The answer is a
    # little above the traffic (economies of scale), and meets the target.
    big = agents_needed(50_000, 180, 1800, 0.8, 20, max_occupancy=1)
    assert 5_000 < big.agents < 5_100
    assert big.service_level >= 0.8
    assert staffing_at(big.agents - 1, 50_000, 180, 1800).service_level < 0.8


def test_shrinkage_turns_agents_into_heads() -> None:
    # 14 on the phones with 30 % shrinkage: 14 / 0.7 = 20 heads (not 21 from float noise); 15 / 0.7 = 21.43 -> 22.
    assert scheduled_heads(14, 0.3) == 20
    assert scheduled_heads(15, 0.3) == 22
    assert scheduled_heads(7, 0.3) == 10
    assert scheduled_heads(0, 0.3) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: agents_needed(10, 0, 1800), "aht_seconds must be > 0"),
        (lambda: agents_needed(10, 180, 1800, service_level_target=1.0), "service_level_target"),
        (lambda: agents_needed(10, 180, 1800, max_occupancy=0), "max_occupancy"),
        (lambda: scheduled_heads(10, 1.0), "shrinkage"),
        (lambda: staffing_at(-1, 10, 180, 1800), "agents must be >= 0"),
    ],
)
def test_bad_parameters_are_refused_by_name(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
