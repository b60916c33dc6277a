"""Names and limits every loading module shares: the raw schema's tables and meta columns, and the settings read
from the environment. Its own module so that the loader and the mapping profiles both import it without
importing each other."""

from __future__ import annotations

import os

RAW_SCHEMA = "raw"
LEDGER = f"{RAW_SCHEMA}._load_ledger"
QUARANTINE = f"{RAW_SCHEMA}._quarantine"
DUPLICATES = f"{RAW_SCHEMA}._duplicate_keys"
SOURCE_LINE = "_source_line"
META_COLUMNS = (
    ("_source_file", "VARCHAR"),
    ("_source_line", "BIGINT"),
    ("_load_id", "VARCHAR"),
    ("_load_seq", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)
SQL_TYPES = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "integer": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
}
# A quarantined record keeps at most this much of its text (a 20 MB line must not be copied into the quarantine).
RAW_RECORD_KEEP = 10_000

# ------------------------------------------------------------------------------------------ settings

SETTLE_SECONDS_ENV = "CONTACT_WAREHOUSE_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 5.0
MAX_RECORD_BYTES_ENV = "CONTACT_WAREHOUSE_MAX_RECORD_BYTES"
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
FUTURE_TOLERANCE_ENV = "CONTACT_WAREHOUSE_FUTURE_TOLERANCE_MINUTES"
LOAD_BATCH_MB_ENV = "CONTACT_WAREHOUSE_LOAD_BATCH_MB"
DEFAULT_LOAD_BATCH_MB = 32.0
DEFAULT_FUTURE_TOLERANCE_MINUTES = 60.0


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r}: expected a number >= 0")
    return value


def settle_seconds() -> float:
    """A file is read only once unmodified for this long (0 in tests: fixtures are complete when written)."""
    return _env_number(SETTLE_SECONDS_ENV, DEFAULT_SETTLE_SECONDS)


def max_record_bytes() -> int:
    """Longest record (JSON line) or CSV field read; a longer one is quarantined, so memory stays bounded."""
    return int(_env_number(MAX_RECORD_BYTES_ENV, DEFAULT_MAX_RECORD_BYTES))


def future_tolerance_minutes() -> float:
    """How far after the load time a timestamp may lie (clock skew) before it is quarantined as future."""
    return _env_number(FUTURE_TOLERANCE_ENV, DEFAULT_FUTURE_TOLERANCE_MINUTES)


def load_batch_bytes() -> int:
    """The landed bytes of one export's new files the loader stages in one transaction (0: one file at a time)."""
    return int(_env_number(LOAD_BATCH_MB_ENV, DEFAULT_LOAD_BATCH_MB) * 1024 * 1024)
