"""Deterministic, prefix-stable simulation of a contact center's tool exports: the schedule of episodes.

The simulation works on *episodes*: a customer has a problem (an intent) on a day and gets in touch through
one or more channels until it is resolved (or given up). Each episode draws from its own random generator,
seeded from (seed, day, customer, episode number); episodes are processed day by day, and a day's files are
written as soon as the episodes of that day are done (later episodes never write into earlier days). Hence
generating D+1 days writes the same files for the first D days as generating D days.

This module decides which customers start an episode on which day and which channel each next contact of an
episode uses; the channels (``channels/``) play the contacts and write their rows through one row writer
(``rows.py``); ``truths.py`` reports the planted truths.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import catalog as cat
from .center import ContactCenter
from .channels.chat import chat
from .channels.faq import faq_visit
from .channels.forms import form
from .channels.sms import sms_notify, sms_thread
from .channels.tickets import FAQ_TICKET, TicketDesk
from .channels.voice import callback_time, inbound_call, outbound_call
from .churn import ChurnDrivers
from .clock import Clock
from .parameters import (
    ANON_CHAT_RATE,
    ANON_FAQ_RATE,
    CAMPAIGN_START_DAY,
    EPISODE_RATE,
    FAILING_FOLLOW,
    MAX_SPAN_DAYS,
    NORMAL_FOLLOW,
    SPIKE_FACTOR,
    STRONG_RESOLVE,
)
from .people import NO_CHURN, Person, make_agents, make_customers, make_visitors
from .truths import planted_truths
from .writers import HEADERS, Writer

_EVENT_EXPORTS = ("calls", "ivr_events", "sms", "surveys", "faq_views", "chat_messages", "form_submissions")


@dataclass
class GenerationSummary:
    out_dir: str
    customers: int
    days: int
    seed: int
    start_date: str
    end_date: str
    rows: dict[str, int]
    total_events: int
    files_written: int
    files: list[str]
    bytes_written: int
    seconds: float
    planted_truths: dict = field(repr=False)

    @property
    def events_per_second(self) -> float:
        return self.total_events / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class Simulator:
    def __init__(self, out_dir: Path, customers: int, days: int, seed: int, start_date: date) -> None:
        self.n_customers = customers
        self.days = days
        self.seed = seed
        self.start_date = start_date
        self.clock = Clock(start_date, days + MAX_SPAN_DAYS + 2)
        self.customers, self.switchboard = make_customers(customers, seed, start_date)
        self.visitors = make_visitors(max(50, customers // 2), seed)
        agents = make_agents(customers, seed)
        trng = random.Random(f"truths:{seed}")
        slow_queue = trng.choice(cat.SLOW_QUEUE_CANDIDATES)
        pool = [c for c in self.customers if not c.switchboard and c.churn_day == NO_CHURN]
        self.over_contacted = trng.sample(pool, min(5, len(pool)))
        for c in self.over_contacted:
            c.over_contacted = True
        self.center = ContactCenter(self.clock, days, agents, slow_queue)
        self.files = Writer(out_dir, seed, {agents.weak_agent})
        self.desk = TicketDesk(self.center, self.customers, seed, days)

        wd_cum, wd_tot = self.center.hours[0]
        self.spike_hour_share = (wd_cum[10] - wd_cum[7]) / wd_tot  # 08:00-11:00
        self.props = np.array([c.propensity for c in self.customers], dtype=np.float64)
        self.churn_days = np.array([c.churn_day for c in self.customers], dtype=np.int64)
        self.churn_on_day: dict[int, list[int]] = {}
        for c in self.customers:
            if 0 <= c.churn_day < days:
                self.churn_on_day.setdefault(c.churn_day, []).append(c.idx)
        self.churn = ChurnDrivers(seed, self.clock, days, self.customers, self.schedule_churn)
        self.center.on_experience = self.churn.experience

    def schedule_churn(self, c: Person, day: int) -> None:
        """Customer ``c`` leaves on ``day``: no new problems after it, and a call to cancel on it."""
        self.churn_days[c.idx] = day
        if day < self.days:
            self.churn_on_day.setdefault(day, []).append(c.idx)

    # --- episodes --------------------------------------------------------------------------------------

    def first_channel(self, rng: random.Random, c: Person, intent: cat.Intent) -> str:
        if intent.name == "payment_arrangement" and rng.random() < 0.3:
            return "collect"
        d = c.digital * intent.digital
        w_faq, w_chat, w_form, w_sms = 0.42 * d, 0.22 * d, 0.05 * intent.digital, 0.05
        w_call = 0.55 * (1.15 - c.digital)
        r = rng.random() * (w_faq + w_chat + w_form + w_sms + w_call)
        if r < w_faq:
            return "faq"
        r -= w_faq
        if r < w_chat:
            return "chat"
        r -= w_chat
        if r < w_form:
            return "form"
        r -= w_form
        return "sms" if r < w_sms else "call"

    def episode(self, rng: random.Random, c: Person, day: int, intent: cat.Intent | None, spike: bool) -> None:
        """One problem of customer ``c`` from ``day`` on: up to seven contacts, each channel chosen by how the
        previous contact ended, none later than ``MAX_SPAN_DAYS`` after the first."""
        cc = self.center
        cc.customer = c
        wd = cc.weekday(day)
        if intent is None:
            intent = cc.pick_intent(rng)
        secs = 8 * 3600 + int(rng.random() * 3 * 3600) if spike else cc.pick_secs(rng, wd)
        tzi = c.tzi
        t = self.clock.local_to_epoch(tzi, day, secs)
        key = (intent.name, wd, 8 * 3600 <= secs < 11 * 3600)
        cc.observed.episodes[key] = cc.observed.episodes.get(key, 0) + 1
        horizon = t + MAX_SPAN_DAYS * 86400
        ch: str | None = self.first_channel(rng, c, intent)
        attempts = 0
        for contact in range(7):
            if ch is None or t >= horizon:
                return
            if ch == "faq":
                t_end, article, up = faq_visit(cc, rng, c, intent, t)
                follow = 0.0 if up else FAILING_FOLLOW if article == cat.FAILING_ARTICLE else NORMAL_FOLLOW
                followed = rng.random() < follow
                if cc.rows.in_period(t, tzi):
                    sa = cc.observed.articles.setdefault(article, [0, 0])
                    sa[0] += followed
                    sa[1] += 1
                if not followed:
                    # The failing article also sends readers to the help desk (after the call/chat draw, so
                    # every other contact of the month stays as it was).
                    if article == cat.FAILING_ARTICLE and cc.rows.in_period(t, tzi) and rng.random() < FAQ_TICKET:
                        self.desk.after_faq(rng, c, intent, t, t_end)
                    return
                ch = "call" if rng.random() < 0.6 else "chat"
                t = t_end + (300 + int(rng.random() * 900) if rng.random() < 0.85 else 3600 + int(rng.random() * 72000))
                continue
            if ch == "form":
                t_end = form(cc, rng, c, intent, t)
                r = rng.random()
                if r < 0.45:
                    ch = "call" if rng.random() < 0.55 else "chat"
                    t = t_end + 3600 + int(rng.random() * 46 * 3600)
                elif intent.name == "open_account" and r < 0.75:
                    ch = "callback"
                    t = callback_time(cc, rng, t_end + 3600, tzi, 7200)
                else:
                    return
                continue
            if ch == "collect":
                sms_notify(cc, rng, c, intent, t)
                ch = "callback"
                t = callback_time(cc, rng, t + 1800, tzi, 14400)
                continue
            if ch == "call":
                outcome, t_end = inbound_call(cc, rng, c, intent, t)
            elif ch == "chat":
                outcome, t_end = chat(cc, rng, c, intent, t)
            elif ch == "sms":
                outcome, t_end = sms_thread(cc, rng, c, intent, t)
            else:  # callback
                attempts += 1
                outcome, t_end = outbound_call(cc, rng, c, intent, t)
                if outcome == "dropped":
                    r = rng.random()
                    if attempts < 3 and r < 0.6:
                        t = callback_time(cc, rng, t_end + 3 * 3600, tzi, 6 * 3600)
                        continue
                    if r < 0.85:
                        ch, t = "call", t_end + 1800 + int(rng.random() * 20 * 3600)
                        continue
                    return
            if outcome == "skipped" or outcome == "resolved":
                return
            if outcome == "unresolved" and contact > 0:
                cc.experience("unresolved_repeat", t_end)  # a churn driver (churn.py)
            r = rng.random()
            if outcome == "contained":
                if r >= 0.12:
                    return
                ch = "call" if rng.random() < 0.7 else "chat"
                t = t_end + 1800 + int(rng.random() * 18 * 3600)
            elif outcome == "voicemail":
                ch = "callback"
                t = callback_time(cc, rng, t_end, tzi, 7200)
            elif outcome == "dropped":
                if r < 0.55:
                    ch, t = "call", t_end + 120 + int(rng.random() * 3500)
                elif r < 0.75:
                    ch, t = rng.choice(("call", "chat")), cc.later_day(rng, t_end, tzi, 1 + int(rng.random() * 3))
                else:
                    return
            else:  # unresolved
                if r >= 0.8:
                    return
                r = rng.random()
                ch = "call" if r < 0.62 else "chat" if r < 0.82 else "sms" if r < 0.92 else "callback"
                r = rng.random()
                if r < 0.4:
                    t = t_end + 1800 + int(rng.random() * 12600)
                elif r < 0.85:
                    t = cc.later_day(rng, t_end, tzi, 1 + int(rng.random() * 6))
                else:
                    t = cc.later_day(rng, t_end, tzi, 8 + int(rng.random() * 5))
                if ch == "callback":
                    t = callback_time(cc, rng, t, tzi, 3600)

    def campaign(self, day: int) -> None:
        """The over-contacted customers: a collections dialer calling twice a day for five days."""
        intent = cat.INTENTS_BY_NAME["payment_arrangement"]
        self.center.customer = None  # the dialer's calls are no customer's experience of service
        for k, c in enumerate(self.over_contacted):
            first = CAMPAIGN_START_DAY + k
            if not first <= day < first + 5:
                continue
            rng = random.Random((self.seed << 40) ^ (day << 20) ^ (k << 4) ^ 0xC)
            for lo, span in ((10 * 3600, 7200), (15 * 3600, 10800)):
                t = self.clock.local_to_epoch(c.tzi, day, lo + int(rng.random() * span))
                outbound_call(self.center, rng, c, intent, t, planted=True)

    def anonymous(self, day: int, g: np.random.Generator) -> None:
        """Help-center visits and bot chats of visitors who never identify themselves."""
        cc = self.center
        cc.customer = None
        wd = cc.weekday(day)
        factor = 1.0 if wd < 5 else 0.6
        rng = random.Random((self.seed << 40) ^ (day << 8) ^ 0xA)
        for _ in range(int(g.poisson(self.n_customers * ANON_FAQ_RATE * factor))):
            v = self.visitors[int(rng.random() * len(self.visitors))]
            t = self.clock.local_to_epoch(v.tzi, day, cc.pick_secs(rng, wd))
            faq_visit(cc, rng, v, cc.pick_intent(rng), t, anon=True)
        for _ in range(int(g.poisson(self.n_customers * ANON_CHAT_RATE * factor))):
            v = self.visitors[int(rng.random() * len(self.visitors))]
            t = self.clock.local_to_epoch(v.tzi, day, cc.pick_secs(rng, wd))
            chat(cc, rng, v, cc.pick_intent(rng), t, anonymous=True)

    def sample_episodes(self, day: int, g: np.random.Generator) -> list[tuple[int, str | None, bool]]:
        """The episodes starting on ``day``: (customer index, forced intent or None, Monday spike)."""
        wd = self.center.weekday(day)
        weights = self.props * (self.churn_days > day)
        wsum = float(weights.sum())
        if wsum <= 0:
            return []
        p = weights / wsum
        expected = wsum * EPISODE_RATE[wd]
        idx = g.choice(len(p), size=int(g.poisson(expected)), p=p)
        out: list[tuple[int, str | None, bool]] = [(int(i), None, False) for i in idx]
        out.extend((i, "cancel_service", False) for i in self.churn_on_day.get(day, []))
        if wd == 0:
            spike = cat.INTENTS_BY_NAME[cat.MONDAY_SPIKE_INTENT]
            # baseline of an average weekday, times (factor - 1)
            base = wsum * sum(EPISODE_RATE[:5]) / 5 * spike.share / self.center.intent_tot * self.spike_hour_share
            extra = g.choice(len(p), size=int(g.poisson(base * (SPIKE_FACTOR - 1))), p=p)
            out.extend((int(i), spike.name, True) for i in extra)
        return out

    # --- run -------------------------------------------------------------------------------------------

    def run(self, progress: bool) -> None:
        rows = self.center.rows
        bar = tqdm(total=self.days, desc="generate", unit="day", file=sys.stderr, disable=not progress)
        try:
            for day in range(self.days):
                rows.start_day(day)
                g = np.random.Generator(np.random.PCG64([self.seed & 0xFFFFFFFF, day, 17]))
                self.campaign(day)
                for k, (ci, intent_name, spike) in enumerate(self.sample_episodes(day, g)):
                    rng = random.Random((self.seed << 80) | (day << 56) | (k << 24) | ci)
                    intent = cat.INTENTS_BY_NAME[intent_name] if intent_name else None
                    self.episode(rng, self.customers[ci], day, intent, spike)
                self.anonymous(day, g)
                self.desk.day(day)
                day_iso = self.clock.day_date(day).isoformat()
                self.files.write_day(day, day_iso, rows.take_day(day))
                self.files._count("tickets", self.desk.export(day, day_iso, self.files.out, self.files.files))
                bar.update(1)
                bar.set_postfix(events=f"{self.events():,}", refresh=False)
        finally:
            bar.close()
        rows.buffers.clear()

    def events(self) -> int:
        return sum(self.files.rows.get(k, 0) for k in _EVENT_EXPORTS)

    def write_snapshots(self) -> None:
        """The CRM's customer list and the help center's article list, as exported on the last day."""
        last = self.clock.day_date(self.days - 1)
        rows = []
        for c in self.customers:
            churned = ""
            if c.churn_day != NO_CHURN and c.churn_day < self.days:
                churned = f"{(self.start_date + timedelta(days=c.churn_day + 1)).isoformat()}T06:{c.idx % 60:02d}:00Z"
            rows.append((c.ref, c.crm_email, c.crm_phone, c.tier, cat.TIMEZONES[c.tzi], c.created_at, churned))
        self.files.write_csv(f"customers/customers_{last.isoformat()}.csv", HEADERS["customers"], rows)
        self.files.rows["customers"] = len(rows)
        arts = [(a.article_id, a.title, a.section, cat.ARTICLE_UPDATED[a.article_id]) for a, _ in cat.all_articles()]
        self.files.write_csv(f"faq_articles/faq_articles_{last.isoformat()}.csv", HEADERS["faq_articles"], arts)
        self.files.rows["faq_articles"] = len(arts)

    def truths(self) -> dict:
        truths = planted_truths(
            self.center,
            seed=self.seed,
            start_date=self.start_date,
            customers=self.customers,
            switchboard=self.switchboard,
            planted_over_contacted=self.over_contacted,
            files=self.files,
        )
        truths["tickets"] = self.desk.planted()
        truths.update(self.churn.truths())
        truths.update(self.strong_agent_truths())
        return truths

    def strong_agent_truths(self) -> dict:
        """The strong agent, its intent, and the resolution of that intent's inbound calls the rows show."""
        cc, intent = self.center, cat.STRONG_AGENT_INTENT
        seen = {a: v for (a, i), v in cc.observed.agent_intents.items() if i == intent}
        mine = seen.get(cc.strong_agent, [0, 0])
        others = [sum(v[k] for a, v in seen.items() if a != cc.strong_agent) for k in (0, 1)]
        return {
            "strong_agent": cc.strong_agent,
            "strong_agent_intent": intent,
            "strong_agent_stats": {
                "expected_resolution_rate": STRONG_RESOLVE,
                "observed_calls": mine[1],
                "observed_resolution_rate": round(mine[0] / mine[1], 3) if mine[1] else None,
                "observed_other_rate": round(others[0] / others[1], 3) if others[1] else None,
            },
        }


def generate(
    out_dir: Path,
    customers: int,
    days: int,
    seed: int,
    start_date: date = date(2026, 10, 5),
    progress: bool = False,
) -> GenerationSummary:
    """Write ``days`` days of exports for ``customers`` CRM customers into ``out_dir``.

    Deterministic for a seed; prefix-stable in ``days`` (the first D days' daily files do not depend on how
    many days are generated). Returns the per-source row counts and the planted truths (also written to
    ``out_dir/planted_truths.json``).
    """
    if customers < 10:
        raise ValueError("customers must be at least 10")
    if days < 1:
        raise ValueError("days must be at least 1")
    began = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sim = Simulator(out_dir, customers, days, seed, start_date)
    sim.run(progress)
    sim.write_snapshots()
    truths = sim.truths()
    with open(out_dir / "planted_truths.json", "w", encoding="utf-8") as f:
        json.dump(truths, f, indent=2)
        f.write("\n")
    files = [*sim.files.files, "planted_truths.json"]
    size = sum((out_dir / f).stat().st_size for f in files)
    return GenerationSummary(
        out_dir=str(out_dir),
        customers=customers,
        days=days,
        seed=seed,
        start_date=start_date.isoformat(),
        end_date=sim.clock.day_date(days - 1).isoformat(),
        rows=dict(sorted(sim.files.rows.items())),
        total_events=sim.events(),
        files_written=len(files),
        files=files,
        bytes_written=size,
        seconds=time.perf_counter() - began,
        planted_truths=truths,
    )


__all__ = ["GenerationSummary", "Simulator", "generate"]
