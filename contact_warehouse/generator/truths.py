"""The planted truths of a generated data set, with what its written rows show of each
(``planted_truths.json``): the checks of the cockpit compare their findings with these."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from . import catalog as cat
from .center import ContactCenter
from .parameters import (
    FAILING_FOLLOW,
    MAX_OUTBOUND_7D,
    NORMAL_FOLLOW,
    NORMAL_RESOLVE,
    SPIKE_FACTOR,
    WEAK_RESOLVE,
)
from .people import Person
from .writers import Writer


def over_contacted_observed(cc: ContactCenter, customers: Sequence[Person]) -> dict[str, int]:
    """Max outbound attempts in any 7-day window, per customer with more than the limit (written calls)."""
    out = {}
    for idx, times in cc.outbound.items():
        c = customers[idx]
        ts = sorted(t for t in times if cc.rows.in_period(t, c.tzi))
        best, j = 0, 0
        for i, t in enumerate(ts):
            while ts[j] <= t - 7 * 86400:
                j += 1
            best = max(best, i - j + 1)
        if best > MAX_OUTBOUND_7D:
            out[c.ref] = best
    return out


def planted_truths(
    cc: ContactCenter,
    *,
    seed: int,
    start_date: date,
    customers: Sequence[Person],
    switchboard: str,
    planted_over_contacted: Sequence[Person],
    files: Writer,
) -> dict:
    days = cc.days
    seen = cc.observed
    agents = seen.agents
    weak = agents.get(cc.weak_agent, [0, 0])
    others = [
        sum(v[0] for a, v in agents.items() if a != cc.weak_agent),
        sum(v[1] for a, v in agents.items() if a != cc.weak_agent),
    ]
    waits = {q: round(v[0] / v[1], 1) for q, v in sorted(seen.waits.items()) if v[1]}
    failing = seen.articles.get(cat.FAILING_ARTICLE, [0, 0])
    other_art = [
        sum(v[0] for a, v in seen.articles.items() if a != cat.FAILING_ARTICLE),
        sum(v[1] for a, v in seen.articles.items() if a != cat.FAILING_ARTICLE),
    ]
    spike = cat.MONDAY_SPIKE_INTENT
    mondays = sum(1 for d in range(days) if cc.weekday(d) == 0)
    other_wd = sum(1 for d in range(days) if 0 < cc.weekday(d) < 5)
    mon = seen.episodes.get((spike, 0, True), 0)
    oth = sum(seen.episodes.get((spike, wd, True), 0) for wd in range(1, 5))
    ratio = (mon / mondays) / (oth / other_wd) if mondays and other_wd and oth else None
    over = over_contacted_observed(cc, customers)
    sb = [c.ref for c in customers if c.switchboard]
    return {
        "generator": {
            "seed": seed,
            "customers": len(customers),
            "days": days,
            "start_date": start_date.isoformat(),
            "end_date": cc.clock.day_date(days - 1).isoformat(),
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
        "weak_agent": cc.weak_agent,
        "weak_agent_stats": {
            "expected_resolution_rate": WEAK_RESOLVE,
            "expected_other_rate": NORMAL_RESOLVE,
            "observed_calls": weak[1],
            "observed_resolution_rate": round(weak[0] / weak[1], 3) if weak[1] else None,
            "observed_other_rate": round(others[0] / others[1], 3) if others[1] else None,
        },
        "slow_queue": cc.slow_queue,
        "mean_wait_seconds_by_queue": waits,
        "switchboard_number": switchboard,
        "switchboard_customers": sb,
        "over_contacted_customers": sorted(over),
        "over_contacted_max_attempts_7d": dict(sorted(over.items())),
        "planted_over_contacted_customers": [c.ref for c in planted_over_contacted],
        "max_attempts_per_7_days": MAX_OUTBOUND_7D,
        "outbound_outside_calling_hours": seen.outside_hours_calls,
        "unmapped_codes": [{"code_type": k, "code": c} for k, c in cat.UNMAPPED_CODES],
        "generic_ivr_nodes": list(cat.GENERIC_IVR_NODES),
        "bad_rows": files.bad_rows,
        "redelivered_file": files.redelivered,
        "company_numbers": {"main": cat.MAIN_NUMBER, "sms": cat.SMS_NUMBER, "outbound": cat.OUTBOUND_NUMBER},
    }
