"""Deterministic, prefix-stable simulation of a contact center's tool exports.

The simulation works on *episodes*: a customer has a problem (an intent) on a day and gets in touch through
one or more channels until it is resolved (or given up). Each episode draws from its own random generator,
seeded from (seed, day, customer, episode number); episodes are processed day by day, and a day's files are
written as soon as the episodes of that day are done (later episodes never write into earlier days). Hence
generating D+1 days writes the same files for the first D days as generating D days.
"""

from __future__ import annotations

import bisect
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
from . import texts as tx
from .clock import Clock
from .people import (
    NO_CHURN,
    Person,
    format_phone,
    make_agents,
    make_customers,
    make_visitors,
    messy_email,
    messy_phone,
    scramble,
)
from .writers import HEADERS, DayBuffer, Writer

# Local-time hour profiles of new problems (relative weights).
HOURS_WEEKDAY = (
    0.04,
    0.02,
    0.02,
    0.02,
    0.03,
    0.07,
    0.2,
    0.45,
    0.9,
    1.25,
    1.3,
    1.2,
    1.0,
    1.1,
    1.1,
    1.0,
    0.9,
    0.75,
    0.55,
    0.48,
    0.38,
    0.28,
    0.17,
    0.08,
)
HOURS_WEEKEND = (
    0.05,
    0.03,
    0.02,
    0.02,
    0.02,
    0.04,
    0.1,
    0.25,
    0.5,
    0.8,
    0.95,
    1.0,
    0.95,
    0.9,
    0.85,
    0.8,
    0.7,
    0.6,
    0.5,
    0.45,
    0.38,
    0.3,
    0.18,
    0.09,
)
# New episodes per customer per day (times the customer's propensity), Monday..Sunday.
EPISODE_RATE = (0.092, 0.085, 0.083, 0.083, 0.08, 0.04, 0.022)
ANON_FAQ_RATE = 0.012  # anonymous help-center visits per CRM customer per day
ANON_CHAT_RATE = 0.0015  # anonymous bot chats per CRM customer per day
OPENING_HOURS = ((8, 21), (8, 21), (8, 21), (8, 21), (8, 21), (9, 18), (10, 16))  # agents, local time, Mon..Sun
MAX_SPAN_DAYS = 14  # no follow-up contact later than this after the episode started
SPIKE_FACTOR = 3.0  # Monday 08:00-11:00 volume of the spike intent relative to other weekdays
FAILING_FOLLOW = 0.72  # readers of the failing article who then call or chat within 24 h
NORMAL_FOLLOW = 0.15
WEAK_RESOLVE = 0.30
NORMAL_RESOLVE = 0.76
MAX_OUTBOUND_7D = 7
CAMPAIGN_START_DAY = 1  # over-contacted customer k gets 10 attempts on days CAMPAIGN_START_DAY + k .. + 4

# id kinds (high bits of the scrambled counter)
K_CALL, K_CHAT, K_MSG, K_SMS, K_THREAD, K_SURVEY, K_VIEW, K_FORM = range(1, 9)

_FOLLOW_CHAT_REPLIES = ("that doesn't help", "agent please", "I need to talk to a person", "no, that's not it")
_NPS_GOOD = (10, 10, 9, 9, 9, 8, 8, 7, 6)
_NPS_BAD = (0, 1, 2, 3, 4, 5, 6, 6, 7, 8)
_CSAT_GOOD = (5, 5, 5, 4, 4, 3)
_CSAT_BAD = (1, 1, 2, 2, 3, 4)


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


def _cum(weights) -> tuple[list[float], float]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out, acc


class Simulator:
    def __init__(self, out_dir: Path, customers: int, days: int, seed: int, start_date: date) -> None:
        self.out = out_dir
        self.n_customers = customers
        self.days = days
        self.seed = seed
        self.start_date = start_date
        self.start_wd = start_date.weekday()
        self.clock = Clock(start_date, days + MAX_SPAN_DAYS + 2)
        self.customers, self.switchboard = make_customers(customers, seed, start_date)
        self.visitors = make_visitors(max(50, customers // 2), seed)
        self.agents = make_agents(customers, seed)
        self.by_queue = self.agents.by_queue
        self.weak_agent = self.agents.weak_agent
        trng = random.Random(f"truths:{seed}")
        self.slow_queue = trng.choice(cat.SLOW_QUEUE_CANDIDATES)
        pool = [c for c in self.customers if not c.switchboard and c.churn_day == NO_CHURN]
        self.over_contacted = trng.sample(pool, min(5, len(pool)))
        for c in self.over_contacted:
            c.over_contacted = True

        self.intent_cum, self.intent_tot = _cum(i.share for i in cat.INTENTS)
        self.hours = [_cum(HOURS_WEEKDAY), _cum(HOURS_WEEKEND)]
        self.art_cum = {}
        self.art_cum_anon = {}
        for i in cat.INTENTS:
            self.art_cum[i.name] = (i.articles, *_cum(a.weight for a in i.articles))
            self.art_cum_anon[i.name] = (
                i.articles,
                *_cum(a.weight * (0.15 if a.article_id == cat.FAILING_ARTICLE else 1.0) for a in i.articles),
            )
        wd_cum, wd_tot = self.hours[0]
        self.spike_hour_share = (wd_cum[10] - wd_cum[7]) / wd_tot  # 08:00-11:00
        self.props = np.array([c.propensity for c in self.customers], dtype=np.float64)
        self.churn_days = np.array([c.churn_day for c in self.customers], dtype=np.int64)
        self.churn_on_day: dict[int, list[int]] = {}
        for c in self.customers:
            if 0 <= c.churn_day < days:
                self.churn_on_day.setdefault(c.churn_day, []).append(c.idx)

        self.buffers: dict[int, DayBuffer] = {}
        self.outbound: dict[int, list[int]] = {}
        self.day = 0
        self.serial = 0
        self.outside_hours_calls: list[str] = []
        # observed statistics of the planted truths (only rows actually written)
        self.st_episodes: dict[tuple[str, int, bool], int] = {}
        self.st_articles: dict[str, list[int]] = {}
        self.st_agents: dict[str, list[int]] = {}
        self.st_waits: dict[str, list[int]] = {}
        self.writer = Writer(out_dir, seed, {self.weak_agent})

    # --- helpers ---------------------------------------------------------------------------------------

    def nid(self, kind: int, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{scramble((kind << 56) | (self.day << 40) | self.serial):016x}"

    def buf(self, t: int, tzi: int) -> DayBuffer | None:
        d = self.clock.local_day(t, tzi)
        if d >= self.days:
            return None
        b = self.buffers.get(d)
        if b is None:
            b = self.buffers[d] = DayBuffer()
        return b

    def weekday(self, day: int) -> int:
        return (self.start_wd + day) % 7

    def pick_secs(self, rng: random.Random, wd: int) -> int:
        cum, tot = self.hours[1 if wd >= 5 else 0]
        h = bisect.bisect_right(cum, rng.random() * tot)
        return min(h, 23) * 3600 + int(rng.random() * 3600)

    def pick_intent(self, rng: random.Random) -> cat.Intent:
        k = bisect.bisect_right(self.intent_cum, rng.random() * self.intent_tot)
        return cat.INTENTS[min(k, len(cat.INTENTS) - 1)]

    def pick_article(self, rng: random.Random, intent: cat.Intent, anon: bool = False) -> cat.Article:
        arts, cum, tot = (self.art_cum_anon if anon else self.art_cum)[intent.name]
        return arts[min(bisect.bisect_right(cum, rng.random() * tot), len(arts) - 1)]

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

    def callback_time(self, rng: random.Random, t: int, tzi: int, spread: int) -> int:
        """An outbound attempt at or after ``t``, within opening hours (hence within calling hours)."""
        t = self.next_open(t, tzi) + int(rng.random() * spread)
        for _ in range(8):
            if self.is_open(t, tzi):
                return t
            t = self.next_open(t, tzi) + int(rng.random() * 1800)
        return t

    def later_day(self, rng: random.Random, t: int, tzi: int, days: int) -> int:
        d = self.clock.local_day(t, tzi) + days
        return self.clock.local_to_epoch(tzi, d, self.pick_secs(rng, self.weekday(d)))

    def wait_seconds(self, rng: random.Random, queue: str) -> int:
        if queue == self.slow_queue:
            return 150 + int(rng.expovariate(1 / 420))
        r = rng.random()
        if r < 0.6:
            return 2 + int(rng.random() * 18)
        if r < 0.95:
            return 20 + int(rng.random() * 70)
        return 90 + int(rng.random() * 210)

    def from_number(self, rng: random.Random, c: Person) -> str:
        if c.switchboard:
            return c.phone
        r = rng.random()
        if r < 0.84:
            return c.phone
        if r < 0.90:
            return format_phone(c.phone, 2)
        if r < 0.99:
            return c.alt_phone
        return "anonymous"

    def call_row(
        self,
        buf,
        tzi,
        call_id,
        parent,
        direction,
        frm,
        to,
        ref,
        queue,
        agent,
        ts,
        tq,
        ta,
        te,
        hold,
        sil,
        wrap,
        status,
        disp,
        resolved,
    ) -> None:
        f = self.clock.fmt_local
        buf.calls.append(
            (
                ts,
                (
                    call_id,
                    parent,
                    direction,
                    frm,
                    to,
                    ref,
                    queue,
                    agent,
                    f(ts, tzi),
                    f(tq, tzi) if tq else "",
                    f(ta, tzi) if ta else "",
                    f(te, tzi),
                    hold,
                    sil,
                    wrap,
                    status,
                    disp,
                    resolved,
                ),
            )
        )

    def disposition(self, rng: random.Random, intent: cat.Intent) -> str:
        r = rng.random()
        if r < 0.04:
            return cat.UNMAPPED_DISPOSITION
        if r < 0.06:
            return rng.choice(self.pick_intent(rng).dispositions)  # the categoriser gets it wrong
        return intent.dispositions[0] if r < 0.7 else rng.choice(intent.dispositions)

    # --- channels --------------------------------------------------------------------------------------

    def survey(
        self, rng, channel: str, contact_id: str, respondent: str, t: int, tzi: int, resolved: bool, p: float = 0.2
    ) -> None:
        if rng.random() >= p:
            return
        r = rng.random()
        kinds = ("nps",) if r < 0.45 else ("csat",) if r < 0.85 else ("nps", "csat")
        if channel == "voice" and rng.random() < 0.5:
            tr = t + 20 + int(rng.random() * 150)
        else:
            tr = t + 600 + int(rng.random() * 30 * 3600)
        buf = self.buf(tr, tzi)
        for kind in kinds:
            if kind == "nps":
                score = rng.choice(_NPS_GOOD if resolved else _NPS_BAD)
                good, bad = score >= 9, score <= 6
            else:
                score = rng.choice(_CSAT_GOOD if resolved else _CSAT_BAD)
                good, bad = score >= 4, score <= 2
            comment = ""
            if rng.random() < 0.3:
                comment = rng.choice(tx.SURVEY_POSITIVE) if good else rng.choice(tx.SURVEY_NEGATIVE) if bad else ""
            rid = self.nid(K_SURVEY, "SR")
            if buf is not None:
                buf.surveys.append(
                    (
                        tr,
                        (
                            rid,
                            kind,
                            channel,
                            contact_id,
                            respondent,
                            self.clock.fmt_local(tr, tzi),
                            str(score),
                            comment,
                        ),
                    )
                )
            tr += 5 + int(rng.random() * 20)

    def ivr(self, rng, c: Person, intent: cat.Intent, call_id: str, t: int) -> tuple[str, int, bool, list]:
        """The IVR part of an inbound call: (outcome, time, identified, events)."""
        ev = [(t, "identify", "menu_enter", "")]
        identified = False
        if rng.random() < 0.78:
            t += 5 + int(rng.random() * 12)
            ev.append((t, "identify", "key_press", "#"))
            identified = True
        else:
            t += 8
            ev.append((t, "identify", "no_input", ""))
        t += 1
        ev.append((t, "main_menu", "menu_enter", ""))
        r = rng.random()
        if r < 0.05:
            t += 3 + int(rng.random() * 8)
            ev.append((t, "main_menu", "invalid_input", rng.choice("578*")))
        elif r < 0.10:
            t += 8
            ev.append((t, "main_menu", "no_input", ""))
            if rng.random() < 0.25:
                t += 8
                ev.append((t, "main_menu", "no_input", ""))
                t += 1
                ev.append((t, "main_menu", "hangup", ""))
                return "dropped", t, identified, ev
        if rng.random() < 0.02:
            t += 3 + int(rng.random() * 10)
            ev.append((t, "main_menu", "hangup", ""))
            return "dropped", t, identified, ev
        t += 3 + int(rng.random() * 10)
        ev.append((t, "main_menu", "key_press", intent.main_key))
        if intent.submenu:
            t += 1
            ev.append((t, intent.submenu, "menu_enter", ""))
            if rng.random() < 0.04:
                t += 3 + int(rng.random() * 6)
                ev.append((t, intent.submenu, "invalid_input", rng.choice("67#")))
            if rng.random() < 0.02:
                t += 3 + int(rng.random() * 6)
                ev.append((t, intent.submenu, "hangup", ""))
                return "dropped", t, identified, ev
            t += 3 + int(rng.random() * 8)
            ev.append((t, intent.submenu, "key_press", intent.sub_key))
        t += 1
        ev.append((t, intent.leaf, "menu_enter", ""))
        if intent.ivr_self_service and rng.random() < intent.ivr_self_service:
            t += 20 + int(rng.random() * 90)
            ev.append((t, intent.leaf, "self_service_complete", ""))
            return "contained", t, identified, ev
        if rng.random() < 0.035:
            t += 5 + int(rng.random() * 25)
            ev.append((t, intent.leaf, "hangup", ""))
            return "dropped", t, identified, ev
        t += 2 + int(rng.random() * 6)
        ev.append((t, intent.leaf, "to_queue", ""))
        return "queue", t, identified, ev

    def inbound_call(self, rng, c: Person, intent: cat.Intent, t0: int) -> tuple[str, int]:
        tzi = c.tzi
        buf = self.buf(t0, tzi)
        call_id = self.nid(K_CALL, "CA")
        frm = self.from_number(rng, c)
        to = cat.MAIN_NUMBER
        if rng.random() < 0.005:
            if buf is not None:
                self.call_row(
                    buf,
                    tzi,
                    call_id,
                    "",
                    "inbound",
                    frm,
                    to,
                    "",
                    "",
                    "",
                    t0,
                    0,
                    0,
                    t0 + 1,
                    "",
                    "",
                    "",
                    "failed",
                    "",
                    "",
                )
            return "dropped", t0 + 2
        outcome, t, identified, ev = self.ivr(rng, c, intent, call_id, t0)
        if buf is not None:
            f = self.clock.fmt_local
            ivr_rows = buf.ivr_events
            for seq, (te, node, etype, key) in enumerate(ev, 1):
                ivr_rows.append((te, (call_id, str(seq), f(te, tzi), node, etype, key)))
        ref = c.ref if identified else ""
        if outcome != "queue":
            te = t + 1 + int(rng.random() * 3)
            if outcome == "contained" and intent.name == "login_issue":
                self.sms_notify(rng, c, intent, t - 5)
            if buf is not None:
                self.call_row(
                    buf,
                    tzi,
                    call_id,
                    "",
                    "inbound",
                    frm,
                    to,
                    ref,
                    "",
                    "",
                    t0,
                    0,
                    0,
                    te,
                    "",
                    "",
                    "",
                    "completed" if outcome == "contained" else "abandoned",
                    "",
                    "",
                )
            return outcome, te
        queue = intent.queue
        if not self.is_open(t, tzi):
            te = t + 20 + int(rng.random() * 70)
            if buf is not None:
                self.call_row(
                    buf,
                    tzi,
                    call_id,
                    "",
                    "inbound",
                    frm,
                    to,
                    ref,
                    queue,
                    "",
                    t0,
                    t,
                    0,
                    te,
                    "",
                    "",
                    "",
                    "voicemail",
                    "",
                    "",
                )
            return "voicemail", te
        leg_id, parent, ts, tq = call_id, "", t0, t
        legs = 0
        while True:
            legs += 1
            lbuf = buf if legs == 1 else self.buf(ts, tzi)
            wait = self.wait_seconds(rng, queue)
            patience = 20 + rng.expovariate(1 / 900)
            if wait > patience:
                te = tq + int(patience)
                if lbuf is not None:
                    self.call_row(
                        lbuf,
                        tzi,
                        leg_id,
                        parent,
                        "inbound",
                        frm,
                        to,
                        ref,
                        queue,
                        "",
                        ts,
                        tq,
                        0,
                        te,
                        "",
                        "",
                        "",
                        "abandoned",
                        "",
                        "",
                    )
                return "dropped", te
            ta = tq + wait
            agent = rng.choice(self.by_queue[queue])
            talk = 40 + int(rng.lognormvariate(5.5, 0.6))
            hold = 0 if rng.random() < 0.6 else 15 + int(rng.random() * 240)
            sil = int(rng.random() * 25) if rng.random() < 0.9 else 31 + int(rng.random() * 120)
            wrap = 15 + int(rng.random() * 100)
            te = ta + talk + hold
            if not ref and rng.random() < 0.85:
                ref = c.ref
            if lbuf is not None:
                st = self.st_waits.setdefault(queue, [0, 0])
                st[0] += wait
                st[1] += 1
            if legs < 3 and rng.random() < (0.12 if legs == 1 else 0.15):
                disp = self.disposition(rng, intent) if rng.random() < 0.5 else ""
                if lbuf is not None:
                    self.call_row(
                        lbuf,
                        tzi,
                        leg_id,
                        parent,
                        "inbound",
                        frm,
                        to,
                        ref,
                        queue,
                        agent,
                        ts,
                        tq,
                        ta,
                        te,
                        str(hold),
                        str(sil),
                        str(wrap),
                        "completed",
                        disp,
                        "",
                    )
                parent, leg_id = leg_id, self.nid(K_CALL, "CA")
                queue = intent.transfer_to if queue == intent.queue else "retention"
                ts, tq = te, te + 1 + int(rng.random() * 3)
                continue
            weak = agent == self.weak_agent
            resolved = rng.random() < (WEAK_RESOLVE if weak else NORMAL_RESOLVE)
            disp = self.disposition(rng, intent)
            res = "" if rng.random() < 0.04 else "true" if resolved else "false"
            if lbuf is not None:
                self.call_row(
                    lbuf,
                    tzi,
                    leg_id,
                    parent,
                    "inbound",
                    frm,
                    to,
                    ref,
                    queue,
                    agent,
                    ts,
                    tq,
                    ta,
                    te,
                    str(hold),
                    str(sil),
                    str(wrap),
                    "completed",
                    disp,
                    res,
                )
                sa = self.st_agents.setdefault(agent, [0, 0])
                sa[0] += resolved
                sa[1] += 1
            if disp == "tech_dispatch":
                self.sms_notify(rng, c, intent, te + 60)
            respondent = frm if frm != "anonymous" else c.ref
            self.survey(rng, "voice", leg_id, respondent, te, tzi, resolved, 0.25)
            return ("resolved" if resolved else "unresolved"), te + wrap

    def outbound_call(self, rng, c: Person, intent: cat.Intent, t: int, planted: bool = False) -> tuple[str, int]:
        tzi = c.tzi
        outside = False
        if not planted and rng.random() < 0.03:
            # the dialer schedules in the company's time zone and ignores the customer's calling hours
            d = self.clock.local_day(t, tzi)
            early = rng.random() < 0.5
            secs = (6 * 3600 + int(rng.random() * 6600)) if early else (21 * 3600 + int(rng.random() * 5400))
            t2 = self.clock.local_to_epoch(tzi, d, secs)
            t = t2 if t2 >= t else self.clock.local_to_epoch(tzi, d + 1, secs)
            outside = True
        times = self.outbound.setdefault(c.idx, [])
        if not (planted or c.over_contacted):
            lo, hi = t - 7 * 86400, t + 7 * 86400
            if sum(1 for x in times if lo < x < hi) >= MAX_OUTBOUND_7D:
                return "skipped", t
        times.append(t)
        buf = self.buf(t, tzi)
        call_id = self.nid(K_CALL, "CA")
        if outside and buf is not None:
            self.outside_hours_calls.append(call_id)
        agent = rng.choice(self.by_queue[intent.queue])
        to = c.phone if rng.random() < 0.97 else format_phone(c.phone, 3)
        r = rng.random()
        ring = 5 + int(rng.random() * 20)
        answered_p = 0.15 if planted else 0.5
        if r < answered_p:
            ta = t + ring
            talk = 30 + int(rng.lognormvariate(5.2, 0.6))
            hold = 0 if rng.random() < 0.7 else 10 + int(rng.random() * 120)
            sil = int(rng.random() * 20) if rng.random() < 0.92 else 31 + int(rng.random() * 60)
            wrap = 10 + int(rng.random() * 60)
            te = ta + talk + hold
            resolved = rng.random() < (WEAK_RESOLVE if agent == self.weak_agent else NORMAL_RESOLVE)
            res = "" if rng.random() < 0.05 else "true" if resolved else "false"
            disp = self.disposition(rng, intent)
            if buf is not None:
                self.call_row(
                    buf,
                    tzi,
                    call_id,
                    "",
                    "outbound",
                    cat.OUTBOUND_NUMBER,
                    to,
                    c.ref,
                    "",
                    agent,
                    t,
                    0,
                    ta,
                    te,
                    str(hold),
                    str(sil),
                    str(wrap),
                    "completed",
                    disp,
                    res,
                )
            self.survey(rng, "voice", call_id, c.phone, te, tzi, resolved, 0.1)
            return ("resolved" if resolved else "unresolved"), te + wrap
        if r < answered_p + (1 - answered_p) * 0.55:
            status, te = "missed", t + 30 + ring
        elif r < answered_p + (1 - answered_p) * 0.95:
            status, te = "voicemail", t + ring + 25 + int(rng.random() * 20)
        else:
            status, te = "failed", t + 2
        if buf is not None:
            self.call_row(
                buf,
                tzi,
                call_id,
                "",
                "outbound",
                cat.OUTBOUND_NUMBER,
                to,
                c.ref,
                "",
                agent,
                t,
                0,
                0,
                te,
                "",
                "",
                "",
                status,
                "",
                "",
            )
        return "dropped", te

    def sms_row(self, buf, t, tzi, thread, direction, frm, to, agent, body, status) -> None:
        if buf is not None:
            buf.sms.append(
                (
                    t,
                    (
                        self.nid(K_SMS, "SM"),
                        thread,
                        direction,
                        frm,
                        to,
                        self.clock.fmt_local(t, tzi),
                        agent,
                        body,
                        status,
                    ),
                )
            )
        else:
            self.serial += 1

    def sms_notify(self, rng, c: Person, intent: cat.Intent, t: int) -> None:
        text = tx.SMS_NOTIFY.get(intent.name)
        if not text or c.switchboard:
            return
        code = f"{rng.randrange(1000000):06d}"
        body = text.format(code=code, amount=f"{20 + rng.randrange(400)}.{rng.randrange(100):02d}")
        thread = self.nid(K_THREAD, "TH")
        self.sms_row(
            self.buf(t, c.tzi),
            t,
            c.tzi,
            thread,
            "outbound",
            cat.SMS_NUMBER,
            c.phone,
            "",
            body,
            "delivered" if rng.random() < 0.97 else "undelivered",
        )

    def sms_thread(self, rng, c: Person, intent: cat.Intent, t: int) -> tuple[str, int]:
        tzi = c.tzi
        thread = self.nid(K_THREAD, "TH")
        phone = c.phone if rng.random() < 0.9 else format_phone(c.phone, 2)
        self.sms_row(
            self.buf(t, tzi),
            t,
            tzi,
            thread,
            "inbound",
            phone,
            cat.SMS_NUMBER,
            "",
            rng.choice(intent.openers),
            "received",
        )
        if self.is_open(t, tzi):
            t += 60 + int(rng.random() * 1700)
        else:
            t = self.next_open(t, tzi) + int(rng.random() * 3600)
        agent = rng.choice(self.by_queue[intent.queue])
        self.sms_row(
            self.buf(t, tzi),
            t,
            tzi,
            thread,
            "outbound",
            cat.SMS_NUMBER,
            phone,
            agent,
            tx.SMS_AGENT_REPLY[0],
            "delivered",
        )
        for _ in range(int(rng.random() * 3)):
            t += 30 + int(rng.random() * 900)
            self.sms_row(
                self.buf(t, tzi),
                t,
                tzi,
                thread,
                "inbound",
                phone,
                cat.SMS_NUMBER,
                "",
                rng.choice(tx.NEUTRAL),
                "received",
            )
            t += 30 + int(rng.random() * 600)
            self.sms_row(
                self.buf(t, tzi),
                t,
                tzi,
                thread,
                "outbound",
                cat.SMS_NUMBER,
                phone,
                agent,
                rng.choice(tx.SMS_AGENT_REPLY[1:]),
                "delivered" if rng.random() < 0.98 else "failed",
            )
        resolved = rng.random() < (WEAK_RESOLVE if agent == self.weak_agent else NORMAL_RESOLVE)
        if rng.random() < 0.7:
            t += 60 + int(rng.random() * 1800)
            self.sms_row(
                self.buf(t, tzi),
                t,
                tzi,
                thread,
                "inbound",
                phone,
                cat.SMS_NUMBER,
                "",
                rng.choice(tx.POSITIVE if resolved else tx.NEGATIVE),
                "received",
            )
        self.survey(rng, "sms", thread, phone, t, tzi, resolved, 0.15)
        return ("resolved" if resolved else "unresolved"), t

    def chat(self, rng, c: Person, intent: cat.Intent, t: int, anonymous: bool = False) -> tuple[str, int]:
        fmt = self.clock.fmt_utc
        tzi = c.tzi
        t0 = t
        conv_id = self.nid(K_CHAT, "CH")
        msgs: list[dict] = []

        def m(tm: int, author: str, text: str) -> None:
            msgs.append({"id": self.nid(K_MSG, "MG"), "sent_at": fmt(tm), "author": author, "text": text})

        m(t, "bot", tx.BOT_WELCOME)
        t += 8 + int(rng.random() * 30)
        m(t, "customer", f"{rng.choice(tx.GREETINGS)}, {rng.choice(intent.openers)}")
        bot_intent: str | None = intent.bot_intent
        if rng.random() < 0.08:
            t += 2
            m(t, "bot", tx.BOT_NOT_UNDERSTOOD)
            t += 10 + int(rng.random() * 30)
            m(t, "customer", rng.choice(intent.openers))
            if rng.random() < 0.3:
                bot_intent = None
        if bot_intent:
            art = self.pick_article(rng, intent)
            t += 2
            m(t, "bot", rng.choice(tx.BOT_ANSWER).format(article=f"{art.title} ({art.article_id})"))
        agent = handed = rating = None
        tags: list[str] = []
        resolved: bool | None
        if bot_intent and rng.random() < intent.bot_resolve:
            t += 20 + int(rng.random() * 90)
            m(t, "customer", rng.choice(tx.POSITIVE))
            resolved, outcome = True, "resolved"
        elif rng.random() < 0.06:
            resolved, outcome = False, "dropped"
        else:
            t += 10 + int(rng.random() * 40)
            m(t, "customer", rng.choice(_FOLLOW_CHAT_REPLIES))
            if anonymous or not self.is_open(t, tzi):
                t += 2
                m(t, "bot", tx.BOT_OFFLINE)
                if not anonymous and rng.random() < 0.5:
                    t += 20 + int(rng.random() * 60)
                    m(t, "customer", "ok, please e-mail me then")
                resolved, outcome = False, "unresolved"
            else:
                t += 2
                m(t, "bot", tx.BOT_HANDOVER)
                handed = t
                agent = rng.choice(self.by_queue[intent.queue])
                t += 20 + int(rng.expovariate(1 / 90))
                m(t, "agent", tx.AGENT_LINES[0].format(name=self.agents.names[agent]))
                for _ in range(1 + int(rng.random() * 3)):
                    t += 15 + int(rng.random() * 75)
                    m(t, "customer", rng.choice(tx.NEUTRAL))
                    t += 20 + int(rng.random() * 100)
                    m(t, "agent", rng.choice(tx.AGENT_LINES[1:]))
                resolved = rng.random() < (WEAK_RESOLVE if agent == self.weak_agent else 0.78)
                t += 10 + int(rng.random() * 60)
                m(t, "agent", rng.choice(tx.AGENT_CLOSE))
                t += 10 + int(rng.random() * 60)
                m(t, "customer", rng.choice(tx.POSITIVE if resolved else tx.NEGATIVE))
                tags.append(rng.choice(intent.chat_tags))
                if c.tier == "high" and rng.random() < 0.35:
                    tags.append(cat.UNMAPPED_CHAT_TAG)
                if rng.random() < 0.1:
                    other = rng.choice(intent.chat_tags)
                    if other not in tags:
                        tags.append(other)
                outcome = "resolved" if resolved else "unresolved"
        if rng.random() < 0.35:
            rating = rng.choice((4, 5, 5)) if resolved else rng.choice((1, 1, 2, 3))
        if rng.random() < 0.04:
            resolved = None
        closed = t + 30 + int(rng.random() * 120)
        if anonymous:
            visitor = {"visitor_id": c.visitors[0], "email": None, "phone": None, "customer_ref": None}
        else:
            r = rng.random()
            visitor = {
                "visitor_id": c.visitors[0] if len(c.visitors) == 1 or r < 0.7 else c.visitors[1],
                "email": messy_email(rng, c.email, 0.6) if rng.random() < 0.55 else None,
                "phone": messy_phone(rng, c.phone, 0.3) if rng.random() < 0.12 else None,
                "customer_ref": c.ref if rng.random() < 0.35 else None,
            }
        obj = {
            "id": conv_id,
            "created_at": fmt(t0),
            "closed_at": fmt(closed) if rng.random() > 0.02 else None,
            "visitor": visitor,
            "bot": {"intent": bot_intent, "handed_over_at": fmt(handed) if handed else None},
            "agent_id": agent,
            "tags": tags,
            "rating": rating,
            "resolved": resolved,
            "messages": msgs,
        }
        buf = self.buf(t0, tzi)
        if buf is not None:
            buf.chat_conversations.append((t0, obj))
        if not anonymous and (agent or outcome == "resolved"):
            respondent = visitor["email"] or c.ref
            self.survey(rng, "chat", conv_id, respondent, closed, tzi, bool(resolved), 0.25 if agent else 0.1)
        return outcome, closed

    def faq_visit(self, rng, p: Person, intent: cat.Intent, t: int, anon: bool = False) -> tuple[int, str, bool]:
        buf = self.buf(t, p.tzi)
        fmt = self.clock.fmt_utc
        first = self.pick_article(rng, intent, anon)
        r = rng.random()
        n = 1 if r < 0.55 else 2 if r < 0.85 else 3
        ref = p.ref if p.ref and rng.random() < 0.55 else ""
        visitor = p.visitors[0] if len(p.visitors) == 1 or rng.random() < 0.7 else p.visitors[1]
        up = False
        art = first
        for k in range(n):
            if k:
                art = (
                    self.pick_article(rng, intent, anon)
                    if rng.random() < 0.7
                    else self.pick_article(rng, self.pick_intent(rng), anon)
                )
            secs = 5 + int(rng.lognormvariate(4.0, 0.8))
            failing = art.article_id == cat.FAILING_ARTICLE
            r = rng.random()
            if failing:
                vote = "up" if r < 0.03 else "down" if r < 0.38 else ""
            else:
                vote = "up" if r < 0.14 else "down" if r < 0.21 else ""
            if vote == "up" and art is first:
                up = True
            query = rng.choice(art.search) if k == 0 and rng.random() < 0.65 else ""
            view_id = self.nid(K_VIEW, "FV")
            if buf is not None:
                buf.faq_views.append((t, (view_id, art.article_id, visitor, ref, fmt(t), str(secs), vote, query)))
            t += secs + 2 + int(rng.random() * 18)
        return t, first.article_id, up

    def form(self, rng, c: Person, intent: cat.Intent, t: int) -> int:
        rid = f"r{scramble((K_FORM << 56) | (self.day << 40) | self.serial + 1):016x}"
        self.serial += 1
        answers = [{"field": "email", "type": "email", "value": messy_email(rng, c.email, 0.6)}]
        r = rng.random()
        if r < 0.4:
            answers.append({"field": "phone", "type": "phone_number", "value": messy_phone(rng, c.phone, 0.2)})
        elif r < 0.42:
            answers.append({"field": "phone", "type": "phone_number", "value": rng.choice(("n/a", "12345"))})
        topic = intent.form_topic if rng.random() > 0.08 else cat.UNMAPPED_FORM_TOPIC
        answers.append({"field": "topic", "type": "dropdown", "value": topic})
        answers.append({"field": "message", "type": "long_text", "value": rng.choice(intent.openers)})
        item = {
            "response_id": rid,
            "form_id": "contact_us_v3" if rng.random() < 0.9 else "callback_request",
            "submitted_at": self.clock.fmt_utc(t),
            "hidden": {"visitor_id": c.visitors[0]},
            "answers": answers,
        }
        buf = self.buf(t, c.tzi)
        if buf is not None:
            buf.form_submissions.append((t, item))
        return t + 1

    # --- episodes --------------------------------------------------------------------------------------

    def first_channel(self, rng, c: Person, intent: cat.Intent) -> str:
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

    def episode(self, rng, c: Person, day: int, intent: cat.Intent | None, spike: bool) -> None:
        wd = self.weekday(day)
        if intent is None:
            intent = self.pick_intent(rng)
        secs = 8 * 3600 + int(rng.random() * 3 * 3600) if spike else self.pick_secs(rng, wd)
        tzi = c.tzi
        t = self.clock.local_to_epoch(tzi, day, secs)
        key = (intent.name, wd, 8 * 3600 <= secs < 11 * 3600)
        self.st_episodes[key] = self.st_episodes.get(key, 0) + 1
        horizon = t + MAX_SPAN_DAYS * 86400
        ch: str | None = self.first_channel(rng, c, intent)
        attempts = 0
        for _ in range(7):
            if ch is None or t >= horizon:
                return
            if ch == "faq":
                t_end, article, up = self.faq_visit(rng, c, intent, t)
                follow = 0.0 if up else FAILING_FOLLOW if article == cat.FAILING_ARTICLE else NORMAL_FOLLOW
                followed = rng.random() < follow
                if self.clock.local_day(t, tzi) < self.days:
                    sa = self.st_articles.setdefault(article, [0, 0])
                    sa[0] += followed
                    sa[1] += 1
                if not followed:
                    return
                ch = "call" if rng.random() < 0.6 else "chat"
                t = t_end + (300 + int(rng.random() * 900) if rng.random() < 0.85 else 3600 + int(rng.random() * 72000))
                continue
            if ch == "form":
                t_end = self.form(rng, c, intent, t)
                r = rng.random()
                if r < 0.45:
                    ch = "call" if rng.random() < 0.55 else "chat"
                    t = t_end + 3600 + int(rng.random() * 46 * 3600)
                elif intent.name == "open_account" and r < 0.75:
                    ch = "callback"
                    t = self.callback_time(rng, t_end + 3600, tzi, 7200)
                else:
                    return
                continue
            if ch == "collect":
                self.sms_notify(rng, c, intent, t)
                ch = "callback"
                t = self.callback_time(rng, t + 1800, tzi, 14400)
                continue
            if ch == "call":
                outcome, t_end = self.inbound_call(rng, c, intent, t)
            elif ch == "chat":
                outcome, t_end = self.chat(rng, c, intent, t)
            elif ch == "sms":
                outcome, t_end = self.sms_thread(rng, c, intent, t)
            else:  # callback
                attempts += 1
                outcome, t_end = self.outbound_call(rng, c, intent, t)
                if outcome == "dropped":
                    r = rng.random()
                    if attempts < 3 and r < 0.6:
                        t = self.callback_time(rng, t_end + 3 * 3600, tzi, 6 * 3600)
                        continue
                    if r < 0.85:
                        ch, t = "call", t_end + 1800 + int(rng.random() * 20 * 3600)
                        continue
                    return
            if outcome == "skipped" or outcome == "resolved":
                return
            r = rng.random()
            if outcome == "contained":
                if r >= 0.12:
                    return
                ch = "call" if rng.random() < 0.7 else "chat"
                t = t_end + 1800 + int(rng.random() * 18 * 3600)
            elif outcome == "voicemail":
                ch = "callback"
                t = self.callback_time(rng, t_end, tzi, 7200)
            elif outcome == "dropped":
                if r < 0.55:
                    ch, t = "call", t_end + 120 + int(rng.random() * 3500)
                elif r < 0.75:
                    ch, t = rng.choice(("call", "chat")), self.later_day(rng, t_end, tzi, 1 + int(rng.random() * 3))
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
                    t = self.later_day(rng, t_end, tzi, 1 + int(rng.random() * 6))
                else:
                    t = self.later_day(rng, t_end, tzi, 8 + int(rng.random() * 5))
                if ch == "callback":
                    t = self.callback_time(rng, t, tzi, 3600)

    def campaign(self, day: int) -> None:
        """The over-contacted customers: a collections dialer calling twice a day for five days."""
        intent = cat.INTENTS_BY_NAME["payment_arrangement"]
        for k, c in enumerate(self.over_contacted):
            first = CAMPAIGN_START_DAY + k
            if not first <= day < first + 5:
                continue
            rng = random.Random((self.seed << 40) ^ (day << 20) ^ (k << 4) ^ 0xC)
            for lo, span in ((10 * 3600, 7200), (15 * 3600, 10800)):
                t = self.clock.local_to_epoch(c.tzi, day, lo + int(rng.random() * span))
                self.outbound_call(rng, c, intent, t, planted=True)

    def anonymous(self, day: int, g: np.random.Generator) -> None:
        wd = self.weekday(day)
        factor = 1.0 if wd < 5 else 0.6
        rng = random.Random((self.seed << 40) ^ (day << 8) ^ 0xA)
        for _ in range(int(g.poisson(self.n_customers * ANON_FAQ_RATE * factor))):
            v = self.visitors[int(rng.random() * len(self.visitors))]
            t = self.clock.local_to_epoch(v.tzi, day, self.pick_secs(rng, wd))
            self.faq_visit(rng, v, self.pick_intent(rng), t, anon=True)
        for _ in range(int(g.poisson(self.n_customers * ANON_CHAT_RATE * factor))):
            v = self.visitors[int(rng.random() * len(self.visitors))]
            t = self.clock.local_to_epoch(v.tzi, day, self.pick_secs(rng, wd))
            self.chat(rng, v, self.pick_intent(rng), t, anonymous=True)

    def sample_episodes(self, day: int, g: np.random.Generator) -> list[tuple[int, str | None, bool]]:
        wd = self.weekday(day)
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
            base = wsum * sum(EPISODE_RATE[:5]) / 5 * spike.share / self.intent_tot * self.spike_hour_share
            extra = g.choice(len(p), size=int(g.poisson(base * (SPIKE_FACTOR - 1))), p=p)
            out.extend((int(i), spike.name, True) for i in extra)
        return out

    # --- run -------------------------------------------------------------------------------------------

    def run(self, progress: bool) -> None:
        bar = tqdm(total=self.days, desc="generate", unit="day", file=sys.stderr, disable=not progress)
        try:
            for day in range(self.days):
                self.day = day
                self.serial = 0
                g = np.random.Generator(np.random.PCG64([self.seed & 0xFFFFFFFF, day, 17]))
                self.campaign(day)
                for k, (ci, intent_name, spike) in enumerate(self.sample_episodes(day, g)):
                    rng = random.Random((self.seed << 80) | (day << 56) | (k << 24) | ci)
                    intent = cat.INTENTS_BY_NAME[intent_name] if intent_name else None
                    self.episode(rng, self.customers[ci], day, intent, spike)
                self.anonymous(day, g)
                buf = self.buffers.pop(day, None) or DayBuffer()
                self.writer.write_day(day, self.clock.day_date(day).isoformat(), buf)
                bar.update(1)
                bar.set_postfix(events=f"{self.events():,}", refresh=False)
        finally:
            bar.close()
        self.buffers.clear()

    def events(self) -> int:
        r = self.writer.rows
        return sum(
            r.get(k, 0)
            for k in (
                "calls",
                "ivr_events",
                "sms",
                "surveys",
                "faq_views",
                "chat_messages",
                "form_submissions",
            )
        )

    # --- snapshots and truths --------------------------------------------------------------------------

    def write_snapshots(self) -> None:
        last = self.clock.day_date(self.days - 1)
        rows = []
        for c in self.customers:
            churned = ""
            if c.churn_day != NO_CHURN and c.churn_day < self.days:
                churned = f"{(self.start_date + timedelta(days=c.churn_day + 1)).isoformat()}T06:{c.idx % 60:02d}:00Z"
            rows.append((c.ref, c.crm_email, c.crm_phone, c.tier, cat.TIMEZONES[c.tzi], c.created_at, churned))
        self.writer.write_csv(f"customers/customers_{last.isoformat()}.csv", HEADERS["customers"], rows)
        self.writer.rows["customers"] = len(rows)
        arts = [(a.article_id, a.title, a.section, cat.ARTICLE_UPDATED[a.article_id]) for a, _ in cat.all_articles()]
        self.writer.write_csv(f"faq_articles/faq_articles_{last.isoformat()}.csv", HEADERS["faq_articles"], arts)
        self.writer.rows["faq_articles"] = len(arts)

    def over_contacted_observed(self) -> dict[str, int]:
        """Max outbound attempts in any 7-day window, per customer with more than the limit (written calls)."""
        out = {}
        for idx, times in self.outbound.items():
            c = self.customers[idx]
            ts = sorted(t for t in times if self.clock.local_day(t, c.tzi) < self.days)
            best, j = 0, 0
            for i, t in enumerate(ts):
                while ts[j] <= t - 7 * 86400:
                    j += 1
                best = max(best, i - j + 1)
            if best > MAX_OUTBOUND_7D:
                out[c.ref] = best
        return out

    def truths(self) -> dict:
        agents = self.st_agents
        weak = agents.get(self.weak_agent, [0, 0])
        others = [
            sum(v[0] for a, v in agents.items() if a != self.weak_agent),
            sum(v[1] for a, v in agents.items() if a != self.weak_agent),
        ]
        waits = {q: round(v[0] / v[1], 1) for q, v in sorted(self.st_waits.items()) if v[1]}
        failing = self.st_articles.get(cat.FAILING_ARTICLE, [0, 0])
        other_art = [
            sum(v[0] for a, v in self.st_articles.items() if a != cat.FAILING_ARTICLE),
            sum(v[1] for a, v in self.st_articles.items() if a != cat.FAILING_ARTICLE),
        ]
        spike = cat.MONDAY_SPIKE_INTENT
        mondays = sum(1 for d in range(self.days) if self.weekday(d) == 0)
        other_wd = sum(1 for d in range(self.days) if 0 < self.weekday(d) < 5)
        mon = self.st_episodes.get((spike, 0, True), 0)
        oth = sum(self.st_episodes.get((spike, wd, True), 0) for wd in range(1, 5))
        ratio = (mon / mondays) / (oth / other_wd) if mondays and other_wd and oth else None
        over = self.over_contacted_observed()
        sb = [c.ref for c in self.customers if c.switchboard]
        return {
            "generator": {
                "seed": self.seed,
                "customers": self.n_customers,
                "days": self.days,
                "start_date": self.start_date.isoformat(),
                "end_date": self.clock.day_date(self.days - 1).isoformat(),
            },
            "monday_spike_intent": spike,
            "monday_spike": {
                "weekday": "Monday",
                "local_hours": [8, 11],
                "factor": SPIKE_FACTOR,
                "observed_episode_ratio": round(ratio, 2) if ratio else None,
            },
            "failing_faq_article": cat.FAILING_ARTICLE,
            "failing_faq": {
                "intent": next(i.name for a, i in cat.all_articles() if a.article_id == cat.FAILING_ARTICLE),
                "expected_follow_rate": FAILING_FOLLOW,
                "expected_other_rate": NORMAL_FOLLOW,
                "observed_follow_rate": round(failing[0] / failing[1], 3) if failing[1] else None,
                "observed_readers": failing[1],
                "observed_other_rate": round(other_art[0] / other_art[1], 3) if other_art[1] else None,
            },
            "weak_agent": self.weak_agent,
            "weak_agent_stats": {
                "expected_resolution_rate": WEAK_RESOLVE,
                "expected_other_rate": NORMAL_RESOLVE,
                "observed_calls": weak[1],
                "observed_resolution_rate": round(weak[0] / weak[1], 3) if weak[1] else None,
                "observed_other_rate": round(others[0] / others[1], 3) if others[1] else None,
            },
            "slow_queue": self.slow_queue,
            "mean_wait_seconds_by_queue": waits,
            "switchboard_number": self.switchboard,
            "switchboard_customers": sb,
            "over_contacted_customers": sorted(over),
            "over_contacted_max_attempts_7d": dict(sorted(over.items())),
            "planted_over_contacted_customers": [c.ref for c in self.over_contacted],
            "max_attempts_per_7_days": MAX_OUTBOUND_7D,
            "outbound_outside_calling_hours": self.outside_hours_calls,
            "unmapped_codes": [{"code_type": k, "code": c} for k, c in cat.UNMAPPED_CODES],
            "generic_ivr_nodes": list(cat.GENERIC_IVR_NODES),
            "bad_rows": self.writer.bad_rows,
            "redelivered_file": self.writer.redelivered,
            "company_numbers": {"main": cat.MAIN_NUMBER, "sms": cat.SMS_NUMBER, "outbound": cat.OUTBOUND_NUMBER},
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
    files = [*sim.writer.files, "planted_truths.json"]
    size = sum((out_dir / f).stat().st_size for f in files)
    return GenerationSummary(
        out_dir=str(out_dir),
        customers=customers,
        days=days,
        seed=seed,
        start_date=start_date.isoformat(),
        end_date=sim.clock.day_date(days - 1).isoformat(),
        rows=dict(sorted(sim.writer.rows.items())),
        total_events=sim.events(),
        files_written=len(files),
        files=files,
        bytes_written=size,
        seconds=time.perf_counter() - began,
        planted_truths=truths,
    )


__all__ = ["GenerationSummary", "Simulator", "generate"]
