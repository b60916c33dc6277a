"""SMS: notifications the company sends (codes, appointments) and threads a customer starts with an agent."""

from __future__ import annotations

import random

from .. import catalog as cat
from .. import texts as tx
from ..center import ContactCenter
from ..parameters import NORMAL_RESOLVE
from ..people import Person, format_phone
from ..rows import K_SMS, K_THREAD, SmsRow
from .surveys import survey


def sms_notify(cc: ContactCenter, rng: random.Random, c: Person, intent: cat.Intent, t: int) -> None:
    """The automated notification of the intent, if it has one (not to a shared switchboard number)."""
    text = tx.SMS_NOTIFY.get(intent.name)
    if not text or c.switchboard:
        return
    code = f"{rng.randrange(1000000):06d}"
    body = text.format(code=code, amount=f"{20 + rng.randrange(400)}.{rng.randrange(100):02d}")
    thread = cc.rows.new_id(K_THREAD, "TH")
    row = SmsRow(
        message_id=cc.rows.new_id(K_SMS, "SM"),
        thread_id=thread,
        direction="outbound",
        from_number=cat.SMS_NUMBER,
        to_number=c.phone,
        sent_at=t,
        agent_id="",
        body=body,
        status="delivered" if rng.random() < 0.97 else "undelivered",
    )
    cc.rows.sms(row, c.tzi)


def sms_thread(cc: ContactCenter, rng: random.Random, c: Person, intent: cat.Intent, t: int) -> tuple[str, int]:
    """A thread the customer starts; an agent answers when the center opens. Returns (outcome, end time)."""
    tzi = c.tzi
    thread = cc.rows.new_id(K_THREAD, "TH")
    phone = c.phone if rng.random() < 0.9 else format_phone(c.phone, 2)

    def message(t: int, direction: str, agent: str, body: str, status: str) -> None:
        frm, to = (phone, cat.SMS_NUMBER) if direction == "inbound" else (cat.SMS_NUMBER, phone)
        row = SmsRow(
            message_id=cc.rows.new_id(K_SMS, "SM"),
            thread_id=thread,
            direction=direction,
            from_number=frm,
            to_number=to,
            sent_at=t,
            agent_id=agent,
            body=body,
            status=status,
        )
        cc.rows.sms(row, tzi)

    def received(t: int, body: str) -> None:
        message(t, "inbound", "", body, "received")

    def sent(t: int, agent: str, body: str, status: str) -> None:
        message(t, "outbound", agent, body, status)

    received(t, rng.choice(intent.openers))
    if cc.is_open(t, tzi):
        t += 60 + int(rng.random() * 1700)
    else:
        t = cc.next_open(t, tzi) + int(rng.random() * 3600)
    agent = rng.choice(cc.by_queue[intent.queue])
    sent(t, agent, tx.SMS_AGENT_REPLY[0], "delivered")
    for _ in range(int(rng.random() * 3)):
        t += 30 + int(rng.random() * 900)
        received(t, rng.choice(tx.NEUTRAL))
        t += 30 + int(rng.random() * 600)
        sent(t, agent, rng.choice(tx.SMS_AGENT_REPLY[1:]), "delivered" if rng.random() < 0.98 else "failed")
    resolved = cc.resolves(rng, agent, NORMAL_RESOLVE)
    if rng.random() < 0.7:
        t += 60 + int(rng.random() * 1800)
        received(t, rng.choice(tx.POSITIVE if resolved else tx.NEGATIVE))
    survey(cc, rng, "sms", thread, phone, t, tzi, resolved, 0.15)
    return ("resolved" if resolved else "unresolved"), t
