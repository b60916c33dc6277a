"""Voice: inbound calls through the IVR to a queue and its transfers, and the outbound dialer (callbacks,
collections, the over-contacting campaign)."""

from __future__ import annotations

import random
from functools import partial

from .. import catalog as cat
from ..center import ContactCenter
from ..parameters import MAX_OUTBOUND_7D, NORMAL_RESOLVE
from ..people import Person, format_phone
from ..rows import K_CALL, CallRow, IvrEvent
from .sms import sms_notify
from .surveys import survey


def wait_seconds(cc: ContactCenter, rng: random.Random, queue: str) -> int:
    """Seconds in the queue before an agent answers; the slow queue is the planted truth."""
    if queue == cc.slow_queue:
        return 150 + int(rng.expovariate(1 / 420))
    r = rng.random()
    if r < 0.6:
        return 2 + int(rng.random() * 18)
    if r < 0.95:
        return 20 + int(rng.random() * 70)
    return 90 + int(rng.random() * 210)


def from_number(rng: random.Random, c: Person) -> str:
    """The number the customer calls from, as the phone system writes it."""
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


def disposition(cc: ContactCenter, rng: random.Random, intent: cat.Intent) -> str:
    """The wrap-up code the agent chooses: mostly the intent's main one, sometimes unmapped or wrong."""
    r = rng.random()
    if r < 0.04:
        return cat.UNMAPPED_DISPOSITION
    if r < 0.06:
        return rng.choice(cc.pick_intent(rng).dispositions)  # the categoriser gets it wrong
    return intent.dispositions[0] if r < 0.7 else rng.choice(intent.dispositions)


def completed(answered_at: int, ended_at: int, hold: int, silence: int, wrap: int) -> dict[str, int | str]:
    """The call row's fields of an answered call that ended normally (inbound leg or outbound call)."""
    return {
        "answered_at": answered_at,
        "ended_at": ended_at,
        "hold_seconds": hold,
        "silence_seconds": silence,
        "wrap_seconds": wrap,
        "status": "completed",
    }


def callback_time(cc: ContactCenter, rng: random.Random, t: int, tzi: int, spread: int) -> int:
    """An outbound attempt at or after ``t``, within opening hours (hence within calling hours)."""
    t = cc.next_open(t, tzi) + int(rng.random() * spread)
    for _ in range(8):
        if cc.is_open(t, tzi):
            return t
        t = cc.next_open(t, tzi) + int(rng.random() * 1800)
    return t


def ivr(rng: random.Random, intent: cat.Intent, t: int) -> tuple[str, int, bool, list[IvrEvent]]:
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


def inbound_call(cc: ContactCenter, rng: random.Random, c: Person, intent: cat.Intent, t0: int) -> tuple[str, int]:
    """A call to the main number: IVR, then the intent's queue, up to two transfers. Returns (outcome, end)."""
    tzi = c.tzi
    call_id = cc.rows.new_id(K_CALL, "CA")
    frm = from_number(rng, c)
    inbound = partial(CallRow, direction="inbound", from_number=frm, to_number=cat.MAIN_NUMBER)
    if rng.random() < 0.005:
        cc.rows.call(inbound(call_id=call_id, started_at=t0, ended_at=t0 + 1, status="failed"), tzi)
        return "dropped", t0 + 2
    outcome, t, identified, ev = ivr(rng, intent, t0)
    cc.rows.ivr_events(call_id, ev, tzi, call_started_at=t0)
    ref = c.ref if identified else ""
    if outcome != "queue":
        te = t + 1 + int(rng.random() * 3)
        if outcome == "contained" and intent.name == "login_issue":
            sms_notify(cc, rng, c, intent, t - 5)
        status = "completed" if outcome == "contained" else "abandoned"
        cc.rows.call(inbound(call_id=call_id, customer_ref=ref, started_at=t0, ended_at=te, status=status), tzi)
        return outcome, te
    queue = intent.queue
    if not cc.is_open(t, tzi):
        te = t + 20 + int(rng.random() * 70)
        row = inbound(
            call_id=call_id, customer_ref=ref, queue=queue, started_at=t0, queued_at=t, ended_at=te, status="voicemail"
        )
        cc.rows.call(row, tzi)
        return "voicemail", te
    leg_id, parent, ts, tq = call_id, "", t0, t
    legs = 0
    while True:
        legs += 1
        leg = partial(inbound, call_id=leg_id, parent_call_id=parent, queue=queue, started_at=ts, queued_at=tq)
        wait = wait_seconds(cc, rng, queue)
        patience = 20 + rng.expovariate(1 / 900)
        if wait > patience:
            te = tq + int(patience)
            cc.rows.call(leg(customer_ref=ref, ended_at=te, status="abandoned"), tzi)
            return "dropped", te
        ta = tq + wait
        agent = rng.choice(cc.by_queue[queue])
        talk = 40 + int(rng.lognormvariate(5.5, 0.6))
        hold = 0 if rng.random() < 0.6 else 15 + int(rng.random() * 240)
        sil = int(rng.random() * 25) if rng.random() < 0.9 else 31 + int(rng.random() * 120)
        wrap = 15 + int(rng.random() * 100)
        te = ta + talk + hold
        if not ref and rng.random() < 0.85:
            ref = c.ref
        answered = partial(leg, customer_ref=ref, agent_id=agent, **completed(ta, te, hold, sil, wrap))
        written = cc.rows.in_period(ts, tzi)
        if written:
            st = cc.observed.waits.setdefault(queue, [0, 0])
            st[0] += wait
            st[1] += 1
        if legs < 3 and rng.random() < (0.12 if legs == 1 else 0.15):  # transferred
            disp = disposition(cc, rng, intent) if rng.random() < 0.5 else ""
            cc.rows.call(answered(disposition=disp), tzi)
            parent, leg_id = leg_id, cc.rows.new_id(K_CALL, "CA")
            queue = intent.transfer_to if queue == intent.queue else "retention"
            ts, tq = te, te + 1 + int(rng.random() * 3)
            continue
        resolved = cc.resolves(rng, agent, NORMAL_RESOLVE, intent.name)
        disp = disposition(cc, rng, intent)
        res = "" if rng.random() < 0.04 else "true" if resolved else "false"
        cc.rows.call(answered(disposition=disp, resolved=res), tzi)
        if written:
            sa = cc.observed.agents.setdefault(agent, [0, 0])
            sa[0] += resolved
            sa[1] += 1
            si = cc.observed.agent_intents.setdefault((agent, intent.name), [0, 0])
            si[0] += resolved
            si[1] += 1
        if disp == "tech_dispatch":
            sms_notify(cc, rng, c, intent, te + 60)
        respondent = frm if frm != "anonymous" else c.ref
        survey(cc, rng, "voice", leg_id, respondent, te, tzi, resolved, 0.25)
        return ("resolved" if resolved else "unresolved"), te + wrap


def outbound_call(
    cc: ContactCenter, rng: random.Random, c: Person, intent: cat.Intent, t: int, planted: bool = False
) -> tuple[str, int]:
    """A dialer attempt, skipped beyond ``MAX_OUTBOUND_7D`` attempts in 7 days unless the customer is one of
    the planted over-contacted ones. Returns (outcome, end)."""
    tzi = c.tzi
    outside = False
    if not planted and rng.random() < 0.03:
        # the dialer schedules in the company's time zone and ignores the customer's calling hours
        d = cc.clock.local_day(t, tzi)
        early = rng.random() < 0.5
        secs = (6 * 3600 + int(rng.random() * 6600)) if early else (21 * 3600 + int(rng.random() * 5400))
        t2 = cc.clock.local_to_epoch(tzi, d, secs)
        t = t2 if t2 >= t else cc.clock.local_to_epoch(tzi, d + 1, secs)
        outside = True
    times = cc.outbound.setdefault(c.idx, [])
    if not (planted or c.over_contacted):
        lo, hi = t - 7 * 86400, t + 7 * 86400
        if sum(1 for x in times if lo < x < hi) >= MAX_OUTBOUND_7D:
            return "skipped", t
    times.append(t)
    call_id = cc.rows.new_id(K_CALL, "CA")
    if outside and cc.rows.in_period(t, tzi):
        cc.observed.outside_hours_calls.append(call_id)
    agent = rng.choice(cc.by_queue[intent.queue])
    to = c.phone if rng.random() < 0.97 else format_phone(c.phone, 3)
    outbound = partial(
        CallRow,
        call_id=call_id,
        direction="outbound",
        from_number=cat.OUTBOUND_NUMBER,
        to_number=to,
        customer_ref=c.ref,
        agent_id=agent,
        started_at=t,
    )
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
        resolved = cc.resolves(rng, agent, NORMAL_RESOLVE)
        res = "" if rng.random() < 0.05 else "true" if resolved else "false"
        row = outbound(**completed(ta, te, hold, sil, wrap), disposition=disposition(cc, rng, intent), resolved=res)
        cc.rows.call(row, tzi)
        survey(cc, rng, "voice", call_id, c.phone, te, tzi, resolved, 0.1)
        return ("resolved" if resolved else "unresolved"), te + wrap
    if r < answered_p + (1 - answered_p) * 0.55:
        status, te = "missed", t + 30 + ring
    elif r < answered_p + (1 - answered_p) * 0.95:
        status, te = "voicemail", t + ring + 25 + int(rng.random() * 20)
    else:
        status, te = "failed", t + 2
    cc.rows.call(outbound(ended_at=te, status=status), tzi)
    return "dropped", te
