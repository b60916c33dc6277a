"""The help center: a visit reads one to three articles and may vote on them."""

from __future__ import annotations

import random

from .. import catalog as cat
from ..center import ContactCenter
from ..people import Person
from ..rows import K_VIEW, FaqViewRow


def faq_visit(
    cc: ContactCenter, rng: random.Random, p: Person, intent: cat.Intent, t: int, anon: bool = False
) -> tuple[int, str, bool]:
    """A visit starting at ``t``. Returns (end time, first article read, whether the reader voted it up)."""
    started = t
    first = cc.pick_article(rng, intent, anon)
    r = rng.random()
    n = 1 if r < 0.55 else 2 if r < 0.85 else 3
    ref = p.ref if p.ref and rng.random() < 0.55 else ""
    visitor = p.visitors[0] if len(p.visitors) == 1 or rng.random() < 0.7 else p.visitors[1]
    up = False
    art = first
    for k in range(n):
        if k:
            art = (
                cc.pick_article(rng, intent, anon)
                if rng.random() < 0.7
                else cc.pick_article(rng, cc.pick_intent(rng), anon)
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
        row = FaqViewRow(
            view_id=cc.rows.new_id(K_VIEW, "FV"),
            article_id=art.article_id,
            visitor_id=visitor,
            customer_ref=ref,
            viewed_at=t,
            seconds_on_page=secs,
            vote=vote,
            search_query=query,
        )
        cc.rows.faq_view(row, p.tzi, visit_started_at=started)
        t += secs + 2 + int(rng.random() * 18)
    return t, first.article_id, up
