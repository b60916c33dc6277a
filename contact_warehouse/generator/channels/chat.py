"""Chat: the bot answers with an article, hands over to an agent when the center is open, or gives up."""

from __future__ import annotations

import random

from .. import catalog as cat
from .. import texts as tx
from ..center import ContactCenter
from ..parameters import CHAT_RESOLVE
from ..people import Person, messy_email, messy_phone
from ..rows import K_CHAT, K_MSG
from .surveys import survey

_FOLLOW_CHAT_REPLIES = ("that doesn't help", "agent please", "I need to talk to a person", "no, that's not it")


def chat(
    cc: ContactCenter, rng: random.Random, c: Person, intent: cat.Intent, t: int, anonymous: bool = False
) -> tuple[str, int]:
    """One conversation, written as the chat tool's nested JSON. Returns (outcome, closing time)."""
    fmt = cc.clock.fmt_utc
    tzi = c.tzi
    t0 = t
    conv_id = cc.rows.new_id(K_CHAT, "CH")
    msgs: list[dict] = []

    def m(tm: int, author: str, text: str) -> None:
        msgs.append({"id": cc.rows.new_id(K_MSG, "MG"), "sent_at": fmt(tm), "author": author, "text": text})

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
        art = cc.pick_article(rng, intent)
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
        if anonymous or not cc.is_open(t, tzi):
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
            agent = rng.choice(cc.by_queue[intent.queue])
            t += 20 + int(rng.expovariate(1 / 90))
            m(t, "agent", tx.AGENT_LINES[0].format(name=cc.agents.names[agent]))
            for _ in range(1 + int(rng.random() * 3)):
                t += 15 + int(rng.random() * 75)
                m(t, "customer", rng.choice(tx.NEUTRAL))
                t += 20 + int(rng.random() * 100)
                m(t, "agent", rng.choice(tx.AGENT_LINES[1:]))
            resolved = cc.resolves(rng, agent, CHAT_RESOLVE)
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
    conversation = {
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
    cc.rows.chat(conversation, t0, tzi)
    if not anonymous and (agent or outcome == "resolved"):
        respondent = visitor["email"] or c.ref
        survey(cc, rng, "chat", conv_id, respondent, closed, tzi, bool(resolved), 0.25 if agent else 0.1)
    return outcome, closed
