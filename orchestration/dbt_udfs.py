"""dbt-duckdb plugin: the Python functions the dbt project calls as SQL functions.

Registered on every dbt connection (``plugins`` in ``dbt_project/profiles.yml``). Each function is cached per
distinct value, because exports repeat the same phone numbers, e-mails and message texts many times.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from functools import lru_cache

import phonenumbers
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import DOUBLE, VARCHAR
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Documented development default; production sets CONTACT_WAREHOUSE_PII_KEY (DECISIONS.md).
DEFAULT_PII_KEY = "contact-warehouse-development-key"


@lru_cache(maxsize=1_000_000)
def normalize_phone(raw: str | None, region: str | None) -> str | None:
    """E.164 form of a phone number written in any national or international format; None if unparseable."""
    if raw is None or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, (region or "US").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def pii_key() -> bytes:
    return os.environ.get("CONTACT_WAREHOUSE_PII_KEY", DEFAULT_PII_KEY).encode()


@lru_cache(maxsize=1_000_000)
def _hash_with(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def pii_hash(value: str | None) -> str | None:
    """Keyed hash (HMAC-SHA256) of an identifier, so marts can join on it without holding it."""
    if value is None:
        return None
    return _hash_with(pii_key(), value)


@lru_cache(maxsize=1)
def sentiment_analyzer() -> SentimentIntensityAnalyzer:
    """The process's one VADER analyzer (building it reads the lexicon shipped with vaderSentiment)."""
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1_000_000)
def _compound(text: str) -> float:
    return sentiment_analyzer().polarity_scores(text)["compound"]


def sentiment_compound(text: str | None) -> float | None:
    """VADER compound score of a text in -1..1 (Hutto and Gilbert, 2014); None for an empty text."""
    if text is None or not text.strip():
        return None
    return _compound(text)


# SQL name, Python function, parameter types, return type.
FUNCTIONS = (
    ("normalize_phone", normalize_phone, [VARCHAR, VARCHAR], VARCHAR),
    ("pii_hash", pii_hash, [VARCHAR], VARCHAR),
    ("sentiment_compound", sentiment_compound, [VARCHAR], DOUBLE),
)


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        for name, func, params, return_type in FUNCTIONS:
            # dbt may hand the plugin a connection that already has them (reused environment).
            with contextlib.suppress(Exception):
                conn.remove_function(name)
            conn.create_function(name, func, params, return_type, null_handling="special", side_effects=False)
