"""Survey invitations after a contact: NPS, CSAT or both, answered more kindly when the problem was resolved."""

from __future__ import annotations

import random

from .. import texts as tx
from ..center import ContactCenter
from ..rows import K_SURVEY, SurveyRow

_NPS_GOOD = (10, 10, 9, 9, 9, 8, 8, 7, 6)
_NPS_BAD = (0, 1, 2, 3, 4, 5, 6, 6, 7, 8)
_CSAT_GOOD = (5, 5, 5, 4, 4, 3)
_CSAT_BAD = (1, 1, 2, 2, 3, 4)


def survey(
    cc: ContactCenter,
    rng: random.Random,
    channel: str,
    contact_id: str,
    respondent: str,
    t: int,
    tzi: int,
    resolved: bool,
    p: float = 0.2,
) -> None:
    """With probability ``p``, the customer answers an invitation sent after the contact that ended at ``t``."""
    if rng.random() >= p:
        return
    r = rng.random()
    kinds = ("nps",) if r < 0.45 else ("csat",) if r < 0.85 else ("nps", "csat")
    if channel == "voice" and rng.random() < 0.5:
        tr = t + 20 + int(rng.random() * 150)  # answered right after the call
    else:
        tr = t + 600 + int(rng.random() * 30 * 3600)
    first = tr
    for kind in kinds:
        if kind == "nps":
            score = rng.choice(_NPS_GOOD if resolved else _NPS_BAD)
            good, bad = score >= 9, score <= 6
            if bad:
                cc.experience("detractor", tr)  # a churn driver (churn.py)
        else:
            score = rng.choice(_CSAT_GOOD if resolved else _CSAT_BAD)
            good, bad = score >= 4, score <= 2
        comment = ""
        if rng.random() < 0.3:
            comment = rng.choice(tx.SURVEY_POSITIVE) if good else rng.choice(tx.SURVEY_NEGATIVE) if bad else ""
        row = SurveyRow(
            response_id=cc.rows.new_id(K_SURVEY, "SR"),
            survey_type=kind,
            channel=channel,
            contact_id=contact_id,
            respondent=respondent,
            responded_at=tr,
            score=score,
            comment=comment,
        )
        cc.rows.survey(row, tzi, first_answer_at=first)
        tr += 5 + int(rng.random() * 20)
