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
from pathlib import Path

import phonenumbers
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import DOUBLE, VARCHAR
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# The bundled demo's key only (fictional people): a run on any other landing folder uses
# CONTACT_WAREHOUSE_PII_KEY or a random key file it creates (contact_warehouse.settings.ensure_pii_key).
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


@lru_cache(maxsize=8)
def _resolve_key(key: str, key_file: str, database: str) -> bytes:
    if key:
        return key.encode()
    beside = Path(database).parent / "pii.key" if database else None
    if not key_file and beside is not None and beside.is_file():
        key_file = str(beside)
    if not key_file:
        return DEFAULT_PII_KEY.encode()
    secret = Path(key_file).read_bytes().strip()
    if not secret:
        raise ValueError(f"the identifier-hashing key file {key_file} is empty")
    return secret


def pii_key() -> bytes:
    """The key of the identifier hashes: CONTACT_WAREHOUSE_PII_KEY, else the key file the run named
    (CONTACT_WAREHOUSE_PII_KEY_FILE), else ``pii.key`` beside the warehouse when it exists (an analyst's
    ``dbt build`` on a real warehouse), else the demo's development key. It reaches dbt's process through the
    environment or that file, never through SQL, so compiled SQL and logs never show it."""
    env = os.environ
    return _resolve_key(
        env.get("CONTACT_WAREHOUSE_PII_KEY", "").strip(),
        env.get("CONTACT_WAREHOUSE_PII_KEY_FILE", "").strip(),
        env.get("CONTACT_WAREHOUSE_DB", "").strip(),
    )


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
