"""The enrichment functions: phone normalisation, the keyed identifier hash and VADER sentiment.

Each is cached per distinct value, because exports repeat the same phone numbers, e-mails and message texts many
times. They used to be DuckDB UDFs registered by a dbt-duckdb plugin; computed here, before dbt, the models need
no engine-specific function (issue 21) and the key never reaches any engine.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# The bundled demo's key only (fictional people): a run on any other landing folder uses
# CONTACT_WAREHOUSE_PII_KEY or a random key file it creates (contact_warehouse.settings.ensure_pii_key).
DEFAULT_PII_KEY = "contact-warehouse-development-key"
DEFAULT_PHONE_REGION = "US"
PHONE_REGION_ENV = "CONTACT_WAREHOUSE_PHONE_REGION"


def phone_region() -> str:
    """The region a phone number written without a country code belongs to (CONTACT_WAREHOUSE_PHONE_REGION)."""
    return (os.environ.get(PHONE_REGION_ENV, "").strip() or DEFAULT_PHONE_REGION).upper()


# A North American number written with digits and the usual separators only: `+1` and ten digits, or (in the
# region US) ten digits with or without a leading `1`, the ten starting 2-9 (an area code never starts 0 or 1). Then
# `phonenumbers` takes no national prefix, international call prefix (011) or other country code out of it and the
# number has NANP's possible length: it returns `+1` and the ten digits. tests/test_enrichment.py compares the two on
# every shape around these; the 971,900 distinct values of the benchmark's 10M-event exports gave the same outputs
# (866,539 by this shortcut). `phonenumbers` costs ~20 us a number: a third of loading calls at 10M events (issue 22).
_SEPARATORS = str.maketrans("", "", " ().-")
_NORTH_AMERICAN = re.compile(r"(\+1|1)?([2-9][0-9]{9})")
_PARSED_MAX_LENGTH = 250  # phonenumbers refuses a longer input as too long


def _north_american(raw: str, region: str) -> str | None:
    """``raw`` in E.164 when it is a North American number of the shapes above, else None (``phonenumbers`` says)."""
    if len(raw) > _PARSED_MAX_LENGTH:
        return None
    match = _NORTH_AMERICAN.fullmatch(raw.translate(_SEPARATORS))
    if match is None or match.group(1) != "+1" and region != "US":
        return None
    return "+1" + match.group(2)


@lru_cache(maxsize=1_000_000)
def normalize_phone(raw: str | None, region: str | None) -> str | None:
    """E.164 form of a phone number written in any national or international format; None if unparseable."""
    if raw is None or not raw.strip():
        return None
    region = (region or DEFAULT_PHONE_REGION).upper()
    fast = _north_american(raw, region)
    return fast if fast is not None else _parsed_e164(raw, region)


def _parsed_e164(raw: str, region: str) -> str | None:
    """What ``phonenumbers`` makes of a number: its E.164 form when it parses and is possible, else None."""
    try:
        number = phonenumbers.parse(raw, region)
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


def pii_key(database: Path | str | None = None) -> bytes:
    """The key of the identifier hashes: CONTACT_WAREHOUSE_PII_KEY, else the key file the run named
    (CONTACT_WAREHOUSE_PII_KEY_FILE), else ``pii.key`` beside the warehouse (``database``, default
    CONTACT_WAREHOUSE_DB) when it exists, else the demo's development key. It is read by the loader only: no SQL,
    log or table ever holds it, only the hashes made with it."""
    env = os.environ
    db = str(database) if database is not None else env.get("CONTACT_WAREHOUSE_DB", "").strip()
    return _resolve_key(
        env.get("CONTACT_WAREHOUSE_PII_KEY", "").strip(), env.get("CONTACT_WAREHOUSE_PII_KEY_FILE", "").strip(), db
    )


_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


@lru_cache(maxsize=8)
def _hmac_states(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hashes of ``key`` (RFC 2104), made once per key: an identifier's hash then
    costs two copies of them, ~0.9 us against ~2.6 us for ``hmac.new`` per value (1.5 million values in a CRM
    snapshot at 10 million events, issue 22). tests/test_enrichment.py checks it against ``hmac``."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return hashlib.sha256(key.translate(_INNER_PAD)), hashlib.sha256(key.translate(_OUTER_PAD))


@lru_cache(maxsize=1_000_000)
def _hash_with(key: bytes, value: str) -> str:
    inner, outer = _hmac_states(key)
    inner = inner.copy()
    inner.update(value.encode())
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


def pii_hash(value: str | None, key: bytes | None = None) -> str | None:
    """Keyed hash (HMAC-SHA256, hex) of an identifier, so marts can join on it without holding it."""
    if value is None:
        return None
    return _hash_with(key if key is not None else pii_key(), value)


def key_fingerprint(key: bytes) -> str:
    """A short HMAC of a constant: tells whether rows were hashed with this key without revealing it."""
    return _hash_with(key, "contact-warehouse key fingerprint")[:16]


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


def clear_caches() -> None:
    """Empty the caches of parsed numbers, hashes and scores: they repeat values within one export's files, and held
    ~0.5 GiB after the exports of 10 million events in the process that then waits for dbt."""
    normalize_phone.cache_clear()
    _hash_with.cache_clear()
    _compound.cache_clear()
