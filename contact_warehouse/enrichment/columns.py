"""Which enriched columns each raw table gets, and how each is computed from the row's raw values.

The identifier hashes (``*_node``) hash ``<identifier type>:<value>`` where the value is what staging makes of the
raw column (an e-mail lowered and trimmed, a phone number in E.164, a reference as written), exactly as
``int_identifier_occurrences`` hashed it in SQL before (docs/domain.md section 3), so customer keys do not change.
An identifier that is missing or blank has no hash (NULL), as it had no row there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .functions import normalize_phone, pii_hash, sentiment_compound

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Enricher:
    """The functions of one load: the key and the default phone region are fixed for all its rows."""

    key: bytes
    region: str

    def node(self, identifier_type: str, value: str | None) -> str | None:
        # SQL's trim() strips spaces only: so does this, so a tab-only value is hashed as staging kept it.
        if value is None or not value.strip(" "):
            return None
        return pii_hash(f"{identifier_type}:{value}", self.key)

    def e164(self, raw: str) -> str | None:
        return normalize_phone(raw, self.region)

    def phone_node(self, raw: str) -> str | None:
        return self.node("phone", self.e164(raw))

    def email_node(self, raw: str) -> str | None:
        # staging's normalize_email: nullif(lower(trim(x)), '')
        return self.node("email", raw.strip(" ").lower() or None)

    def customer_ref_node(self, raw: str) -> str | None:
        return self.node("customer_ref", raw)

    def visitor_id_node(self, raw: str) -> str | None:
        return self.node("visitor_id", raw)

    # A survey's respondent is an e-mail (has @), a phone number (no letters) or else a CRM customer_ref
    # (stg_phone_system__survey_answers); the two first tests may both hold.
    def respondent_e164(self, raw: str) -> str | None:
        return self.e164(raw) if _has_no_letters(raw) else None

    def respondent_email_node(self, raw: str) -> str | None:
        return self.email_node(raw) if "@" in raw else None

    def respondent_phone_node(self, raw: str) -> str | None:
        return self.phone_node(raw) if _has_no_letters(raw) else None

    def respondent_customer_ref_node(self, raw: str) -> str | None:
        if "@" in raw or _has_no_letters(raw):
            return None
        return self.node("customer_ref", raw.strip(" "))

    # A form's contact fields are answers (stg_forms__submissions pivots field 'email' and 'phone').
    def answer_e164(self, field: str, value: str) -> str | None:
        return self.e164(value) if field.lower() == "phone" else None

    def answer_node(self, field: str, value: str) -> str | None:
        kind = field.lower()
        if kind == "email":
            return self.email_node(value)
        return self.phone_node(value) if kind == "phone" else None

    def sentiment(self, text: str) -> float | None:
        return sentiment_compound(text)


def _has_no_letters(raw: str) -> bool:
    """staging's has_no_letters: no letter a-z once lowered (so digits, +, spaces, punctuation only)."""
    return _LETTERS.isdisjoint(raw.lower())


@dataclass(frozen=True)
class EnrichedColumn:
    """A column the loader adds to a raw table: ``method`` of ``Enricher`` applied to the raw ``inputs`` of each
    row (NULL when any input is NULL)."""

    name: str
    sql_type: str
    inputs: tuple[str, ...]
    method: str
    description: str

    def function(self, enricher: Enricher) -> Callable[..., Any]:
        return getattr(enricher, self.method)


def _e164(column: str) -> EnrichedColumn:
    return EnrichedColumn(f"{column}_e164", "varchar", (column,), "e164", f"{column} in E.164 (NULL if unparseable)")


def _node(column: str, method: str, what: str) -> EnrichedColumn:
    return EnrichedColumn(f"{column}_node", "varchar", (column,), method, f"keyed hash of {what}")


def _sentiment(column: str) -> EnrichedColumn:
    return EnrichedColumn(f"{column}_sentiment", "double", (column,), "sentiment", f"VADER compound of {column}")


_PHONE_HASH = "'phone:' || the E.164 number"
_EMAIL_HASH = "'email:' || the lowered, trimmed e-mail"
_REF_HASH = "'customer_ref:' || the reference"
_VISITOR_HASH = "'visitor_id:' || the visitor id"

# Raw tables whose every delivery repeats the previous one's rows (the CRM export is a snapshot of every customer):
# a new row's outputs are copied from a raw row with the same inputs (apply.py), not computed again. Elsewhere a
# process's function caches cover the repeats of one load, and scanning the raw table per file would cost more.
SNAPSHOT_TABLES = frozenset({"customers"})

ENRICHED_COLUMNS: dict[str, tuple[EnrichedColumn, ...]] = {
    "customers": (
        _e164("phone"),
        _node("customer_ref", "customer_ref_node", _REF_HASH),
        _node("email", "email_node", _EMAIL_HASH),
        _node("phone", "phone_node", _PHONE_HASH),
    ),
    "calls": (
        _e164("from_number"),
        _e164("to_number"),
        _node("from_number", "phone_node", _PHONE_HASH),
        _node("to_number", "phone_node", _PHONE_HASH),
        _node("customer_ref", "customer_ref_node", _REF_HASH),
    ),
    "sms": (
        _e164("from_number"),
        _e164("to_number"),
        _node("from_number", "phone_node", _PHONE_HASH),
        _node("to_number", "phone_node", _PHONE_HASH),
        _sentiment("body"),
    ),
    "surveys": (
        EnrichedColumn(
            "respondent_e164",
            "varchar",
            ("respondent",),
            "respondent_e164",
            "respondent in E.164 when it has no letters",
        ),
        EnrichedColumn(
            "respondent_email_node", "varchar", ("respondent",), "respondent_email_node", f"{_EMAIL_HASH} (has @)"
        ),
        EnrichedColumn(
            "respondent_phone_node", "varchar", ("respondent",), "respondent_phone_node", f"{_PHONE_HASH} (no letters)"
        ),
        EnrichedColumn(
            "respondent_customer_ref_node",
            "varchar",
            ("respondent",),
            "respondent_customer_ref_node",
            f"{_REF_HASH} (trimmed; neither e-mail nor phone)",
        ),
        _sentiment("comment"),
    ),
    "faq_views": (
        _node("visitor_id", "visitor_id_node", _VISITOR_HASH),
        _node("customer_ref", "customer_ref_node", _REF_HASH),
    ),
    "chat_conversations": (
        _e164("visitor_phone"),
        _node("visitor_id", "visitor_id_node", _VISITOR_HASH),
        _node("visitor_email", "email_node", _EMAIL_HASH),
        _node("visitor_phone", "phone_node", _PHONE_HASH),
        _node("visitor_customer_ref", "customer_ref_node", _REF_HASH),
    ),
    "chat_messages": (_sentiment("text"),),
    "form_submissions": (_node("visitor_id", "visitor_id_node", _VISITOR_HASH),),
    "form_answers": (
        EnrichedColumn("value_e164", "varchar", ("field", "value"), "answer_e164", "a phone answer in E.164"),
        EnrichedColumn(
            "value_node", "varchar", ("field", "value"), "answer_node", f"{_EMAIL_HASH} or {_PHONE_HASH} of the answer"
        ),
    ),
    "tickets": (
        _e164("requester_phone"),
        _node("requester_email", "email_node", _EMAIL_HASH),
        _node("requester_phone", "phone_node", _PHONE_HASH),
        _node("requester_customer_ref", "customer_ref_node", _REF_HASH),
    ),
}
