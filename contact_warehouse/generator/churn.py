"""Planted churn drivers: customers whose problem stays unresolved after they contacted us again, and customers
who answer the NPS survey as detractors, leave the company more often (the CRM's ``churned_at``).

Each such experience draws, from a generator of its own (so the episodes' draws are unchanged), whether the
customer churns and how many days later; the customer then calls to cancel on that day and stops getting in
touch, as the customers whose churn is drawn at creation do. The decision is made when the experience happens
and churn always falls on a later day, so generating more days never changes an earlier day (prefix-stable).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from .clock import Clock
from .people import NO_CHURN, Person

# Probability that one experience makes the customer churn, and the churn's delay in local days.
CHURN_AFTER_UNRESOLVED_REPEAT = 0.25  # an assisted contact left unresolved although it was a repeat on the problem
CHURN_AFTER_DETRACTOR = 0.45  # an NPS answer of 0-6
CHURN_DELAY_DAYS = (1, 9)  # inclusive range


class ChurnDrivers:
    """Decides the churn of customers after bad experiences; ``schedule`` books it in the simulation."""

    def __init__(
        self,
        seed: int,
        clock: Clock,
        days: int,
        customers: Sequence[Person],
        schedule: Callable[[Person, int], None],
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.days = days
        self.customers = customers
        self.schedule = schedule
        # customer index -> the driver that made them churn (first experience that did).
        self.churned_by: dict[int, str] = {}
        # customer index -> experiences seen in the period, per driver.
        self.experienced: dict[int, set[str]] = {}

    def experience(self, c: Person | None, driver: str, t: int) -> None:
        """Customer ``c`` had a bad experience (``unresolved_repeat`` or ``detractor``) at epoch second ``t``."""
        if c is None or not c.ref or c.switchboard or c.over_contacted:
            return
        day = self.clock.local_day(t, c.tzi)
        if day >= self.days:
            return
        self.experienced.setdefault(c.idx, set()).add(driver)
        if c.churn_day != NO_CHURN:
            return
        p = CHURN_AFTER_DETRACTOR if driver == "detractor" else CHURN_AFTER_UNRESOLVED_REPEAT
        rng = random.Random(f"churn:{self.seed}:{c.idx}:{t}:{driver}")
        if rng.random() >= p:
            return
        churn_day = day + rng.randint(*CHURN_DELAY_DAYS)
        c.churn_day = churn_day
        self.churned_by[c.idx] = driver
        self.schedule(c, churn_day)

    def truths(self) -> dict:
        """The drivers' parameters and what the written CRM export shows of them."""
        crm = [c for c in self.customers if c.ref and not c.switchboard and not c.over_contacted]
        churned = {c.idx for c in crm if 0 <= c.churn_day < self.days}
        with_driver = [c.idx for c in crm if c.idx in self.experienced]
        without = [c.idx for c in crm if c.idx not in self.experienced]

        def rate(group: list[int]) -> float | None:
            return round(sum(i in churned for i in group) / len(group), 3) if group else None

        return {
            "churn_drivers": {
                "unresolved_repeat_churn_probability": CHURN_AFTER_UNRESOLVED_REPEAT,
                "detractor_churn_probability": CHURN_AFTER_DETRACTOR,
                "delay_days": list(CHURN_DELAY_DAYS),
                "observed_churned_in_period": len(churned),
                "observed_churned_after_driver": sum(1 for i in self.churned_by if i in churned),
                "observed_customers_with_driver": len(with_driver),
                "observed_churn_rate_with_driver": rate(with_driver),
                "observed_churn_rate_without_driver": rate(without),
            }
        }
