"""Erlang C: the agents a queue needs for a service-level target, and what a given staffing achieves.

The M/M/N queue behind every workforce-management tool: contacts arrive at random (Poisson) at a steady rate over
the interval, handle times are exponential with mean AHT, callers wait in one queue and never hang up. With traffic
A = arrivals x AHT / interval length (in Erlangs) and N agents (N > A):

    P(wait)        = Erlang C(N, A) = N B / (N - A (1 - B)), B = Erlang B(N, A)
    service level  = 1 - P(wait) exp(-(N - A) t / AHT)         (answered within t seconds)
    ASA            = P(wait) AHT / (N - A)
    occupancy      = A / N

Erlang B comes from its recursion B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)), which stays between 0 and 1 at every
step: the textbook form with A^N / N! overflows a float at a few hundred agents. Shrinkage (breaks, training,
absence) turns the agents needed on the phones into the heads to schedule: heads = agents / (1 - shrinkage).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The industry convention (80 % answered within 20 s) and common planning defaults, used when a queue has none.
DEFAULT_SERVICE_LEVEL_TARGET = 0.8
DEFAULT_SERVICE_LEVEL_SECONDS = 20.0
DEFAULT_MAX_OCCUPANCY = 0.85
DEFAULT_SHRINKAGE = 0.3


@dataclass(frozen=True)
class Staffing:
    """What N agents achieve on an interval's traffic; the rates are None when no contact arrives."""

    agents: int
    traffic_erlangs: float
    probability_of_waiting: float | None
    service_level: float | None
    asa_seconds: float | None
    occupancy: float | None


def traffic_erlangs(contacts: float, aht_seconds: float, interval_seconds: float) -> float:
    """Offered load: the agents' worth of work that arrives per interval (contacts x AHT / interval length)."""
    if contacts < 0:
        raise ValueError(f"contacts must be >= 0, got {contacts}")
    if aht_seconds <= 0:
        raise ValueError(f"aht_seconds must be > 0, got {aht_seconds}")
    if interval_seconds <= 0:
        raise ValueError(f"interval_seconds must be > 0, got {interval_seconds}")
    return contacts * aht_seconds / interval_seconds


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of `agents` servers under `traffic` Erlangs, by the stable recursion."""
    if agents < 0 or traffic < 0:
        raise ValueError(f"agents and traffic must be >= 0, got {agents} and {traffic}")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def _erlang_c_from_b(agents: int, traffic: float, blocking: float) -> float:
    if agents <= traffic:
        return 1.0  # the queue grows without bound: every contact waits
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact waits (all `agents` busy) under `traffic` Erlangs; 1 when agents <= traffic."""
    return _erlang_c_from_b(agents, traffic, erlang_b(agents, traffic))


def _staffing(agents: int, traffic: float, blocking: float, aht_seconds: float, threshold_seconds: float) -> Staffing:
    if traffic == 0:
        return Staffing(agents, 0.0, None, None, None, None)
    if agents == 0:
        return Staffing(0, traffic, 1.0, 0.0, None, None)  # nobody answers: no service, no finite wait
    wait = _erlang_c_from_b(agents, traffic, blocking)
    occupancy = min(traffic / agents, 1.0)
    if agents <= traffic:
        return Staffing(agents, traffic, 1.0, 0.0, math.inf, occupancy)
    service_level = 1.0 - wait * math.exp(-(agents - traffic) * threshold_seconds / aht_seconds)
    asa = wait * aht_seconds / (agents - traffic)
    return Staffing(agents, traffic, wait, service_level, asa, occupancy)


def staffing_at(
    agents: int,
    contacts: float,
    aht_seconds: float,
    interval_seconds: float,
    threshold_seconds: float = DEFAULT_SERVICE_LEVEL_SECONDS,
) -> Staffing:
    """Service level (answered within `threshold_seconds`), ASA and occupancy with `agents` on the interval.

    Fewer agents than the traffic give a service level of 0 and an infinite ASA (the queue never empties)."""
    if agents < 0:
        raise ValueError(f"agents must be >= 0, got {agents}")
    traffic = traffic_erlangs(contacts, aht_seconds, interval_seconds)
    return _staffing(agents, traffic, erlang_b(agents, traffic), aht_seconds, threshold_seconds)


def agents_needed(
    contacts: float,
    aht_seconds: float,
    interval_seconds: float,
    service_level_target: float = DEFAULT_SERVICE_LEVEL_TARGET,
    threshold_seconds: float = DEFAULT_SERVICE_LEVEL_SECONDS,
    max_occupancy: float = DEFAULT_MAX_OCCUPANCY,
) -> Staffing:
    """The fewest agents whose service level reaches the target and whose occupancy stays at or under the maximum.

    No contact needs no agent (Staffing with 0 agents and no rates)."""
    if not 0 < service_level_target < 1:
        raise ValueError(f"service_level_target must be between 0 and 1 (exclusive), got {service_level_target}")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy}")
    if threshold_seconds < 0:
        raise ValueError(f"threshold_seconds must be >= 0, got {threshold_seconds}")
    traffic = traffic_erlangs(contacts, aht_seconds, interval_seconds)
    if traffic == 0:
        return Staffing(0, 0.0, None, None, None, None)
    # Walk N upwards carrying Erlang B along: one pass, O(N), whatever the size of the queue.
    blocking, agents = 1.0, 0
    while True:
        agents += 1
        blocking = traffic * blocking / (agents + traffic * blocking)
        if agents <= traffic or traffic / agents > max_occupancy:
            continue
        result = _staffing(agents, traffic, blocking, aht_seconds, threshold_seconds)
        if result.service_level is not None and result.service_level >= service_level_target:
            return result


def scheduled_heads(agents: float, shrinkage: float = DEFAULT_SHRINKAGE) -> int:
    """Heads to schedule so that `agents` are on the phones after shrinkage (the share of paid time off them)."""
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage}")
    if agents < 0:
        raise ValueError(f"agents must be >= 0, got {agents}")
    # Rounded to 1e-9 first so that 7 / (1 - 0.3) = 10.000000000000002 schedules 10 heads, not 11.
    return math.ceil(round(agents / (1.0 - shrinkage), 9))
