"""The web contact form: an e-mail (messy), maybe a phone, a topic and a message."""

from __future__ import annotations

import random

from .. import catalog as cat
from ..center import ContactCenter
from ..people import Person, messy_email, messy_phone
from ..rows import K_FORM


def form(cc: ContactCenter, rng: random.Random, c: Person, intent: cat.Intent, t: int) -> int:
    """One submission at ``t``, written as the form tool's JSON item. Returns the time after it."""
    rid = cc.rows.new_id(K_FORM, "r")
    answers = [{"field": "email", "type": "email", "value": messy_email(rng, c.email, 0.6)}]
    r = rng.random()
    if r < 0.4:
        answers.append({"field": "phone", "type": "phone_number", "value": messy_phone(rng, c.phone, 0.2)})
    elif r < 0.42:
        answers.append({"field": "phone", "type": "phone_number", "value": rng.choice(("n/a", "12345"))})
    topic = intent.form_topic if rng.random() > 0.08 else cat.UNMAPPED_FORM_TOPIC
    answers.append({"field": "topic", "type": "dropdown", "value": topic})
    answers.append({"field": "message", "type": "long_text", "value": rng.choice(intent.openers)})
    submission = {
        "response_id": rid,
        "form_id": "contact_us_v3" if rng.random() < 0.9 else "callback_request",
        "submitted_at": cc.clock.fmt_utc(t),
        "hidden": {"visitor_id": c.visitors[0]},
        "answers": answers,
    }
    cc.rows.form(submission, t, c.tzi)
    return t + 1
