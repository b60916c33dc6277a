"""The simulated contact center as every channel sees it: its calendar and opening hours, its agents, the
planted choices of this seed, the row writer, and the statistics the planted truths are checked against."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from . import catalog as cat
from .clock import Clock
from .parameters import HOURS_WEEKDAY, HOURS_WEEKEND, OPENING_HOURS, STRONG_RESOLVE, WEAK_RESOLVE
from .people import Agents, Person
from .rows import RowWriter


def cumulative(weights) -> tuple[list[float], float]:
    """Running sums and total of ``weights``, for drawing with ``bisect``."""
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out, acc


@dataclass
class Observed:
    """What the written rows show of the planted truths (rows after the period are not counted)."""

    episodes: dict[tuple[str, int, bool], int] = field(default_factory=dict)  # (intent, weekday, 08-11h) -> n
    articles: dict[str, list[int]] = field(default_factory=dict)  # article -> [readers who followed up, readers]
    agents: dict[str, list[int]] = field(default_factory=dict)  # agent -> [resolved calls, calls]
    waits: dict[str, list[int]] = field(default_factory=dict)  # queue -> [seconds waited, answered calls]
    outside_hours_calls: list[str] = field(default_factory=list)  # outbound call ids
    # (agent, intent) -> [resolved inbound calls, inbound calls answered to the end]
    agent_intents: dict[tuple[str, str], list[int]] = field(default_factory=dict)


class ContactCenter:
    def __init__(self, clock: Clock, days: int, agents: Agents, slow_queue: str) -> None:
        self.clock = clock
        self.days = days
        self.start_wd = clock.start_date.weekday()
        self.agents = agents
        self.by_queue = agents.by_queue
        self.weak_agent = agents.weak_agent
        self.strong_agent = agents.strong_agent
        self.slow_queue = slow_queue
        self.rows = RowWriter(clock, days)
        self.observed = Observed()
        # The dialer's attempts per customer index (written or not): its 7-day limit counts them all.
        self.outbound: dict[int, list[int]] = {}
        # The customer whose episode is being played (None for anonymous visitors), and who hears of their bad
        # experiences (the churn drivers).
        self.customer: Person | None = None
        self.on_experience: Callable[[Person | None, str, int], None] | None = None

        self.intent_cum, self.intent_tot = cumulative(i.share for i in cat.INTENTS)
        self.hours = [cumulative(HOURS_WEEKDAY), cumulative(HOURS_WEEKEND)]
        self.art_cum = {}
        self.art_cum_anon = {}
        for i in cat.INTENTS:
            self.art_cum[i.name] = (i.articles, *cumulative(a.weight for a in i.articles))
            # Anonymous visitors reach the failing article at 0.15 of its weight.
            self.art_cum_anon[i.name] = (
                i.articles,
                *cumulative(a.weight * (0.15 if a.article_id == cat.FAILING_ARTICLE else 1.0) for a in i.articles),
            )

    # --- the calendar ----------------------------------------------------------------------------------

    def weekday(self, day: int) -> int:
        return (self.start_wd + day) % 7

    def is_open(self, t: int, tzi: int) -> bool:
        """Agents work Mon-Fri 08:00-21:00, Sat 09:00-18:00 and Sun 10:00-16:00 local time."""
        d = self.clock.local_day(t, tzi)
        lo, hi = OPENING_HOURS[self.weekday(d)]
        return lo <= self.clock.local_secs(t, tzi) // 3600 < hi

    def next_open(self, t: int, tzi: int) -> int:
        d = self.clock.local_day(t, tzi)
        for k in range(8):
            opening = self.clock.local_to_epoch(tzi, d + k, OPENING_HOURS[self.weekday(d + k)][0] * 3600)
            if opening >= t:
                return opening
            if self.is_open(t, tzi):
                return t
        return t + 86400

    # --- draws -----------------------------------------------------------------------------------------

    def pick_secs(self, rng: random.Random, wd: int) -> int:
        """A local second of the day at which a new problem arises, by the weekday's hour profile."""
        cum, tot = self.hours[1 if wd >= 5 else 0]
        h = bisect.bisect_right(cum, rng.random() * tot)
        return min(h, 23) * 3600 + int(rng.random() * 3600)

    def later_day(self, rng: random.Random, t: int, tzi: int, days: int) -> int:
        """A time ``days`` local days after ``t``, by that day's hour profile."""
        d = self.clock.local_day(t, tzi) + days
        return self.clock.local_to_epoch(tzi, d, self.pick_secs(rng, self.weekday(d)))

    def pick_intent(self, rng: random.Random) -> cat.Intent:
        k = bisect.bisect_right(self.intent_cum, rng.random() * self.intent_tot)
        return cat.INTENTS[min(k, len(cat.INTENTS) - 1)]

    def pick_article(self, rng: random.Random, intent: cat.Intent, anon: bool = False) -> cat.Article:
        arts, cum, tot = (self.art_cum_anon if anon else self.art_cum)[intent.name]
        return arts[min(bisect.bisect_right(cum, rng.random() * tot), len(arts) - 1)]

    def resolves(self, rng: random.Random, agent: str, rate: float, intent: str | None = None) -> bool:
        """Whether ``agent`` resolves the problem: the weak agent at ``WEAK_RESOLVE``, the strong agent on its
        intent (when the caller names the intent) at ``STRONG_RESOLVE``, the others at ``rate``."""
        if agent == self.weak_agent:
            rate = WEAK_RESOLVE
        elif agent == self.strong_agent and intent == cat.STRONG_AGENT_INTENT:
            rate = STRONG_RESOLVE
        return rng.random() < rate

    def experience(self, driver: str, t: int) -> None:
        """The current customer had a bad experience at ``t`` (see ``churn.py``)."""
        if self.on_experience is not None:
            self.on_experience(self.customer, driver, t)
