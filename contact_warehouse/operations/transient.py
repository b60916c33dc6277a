"""Which failures are worth a retry: the ones another moment can fix (a file lock held by someone else, a
network file system's hiccup), never the ones the data or the code cause (a failed test, a bad model, a full disk,
a permission). The Dagster steps retry only the former (``orchestration/retries.py``)."""

from __future__ import annotations

import errno
import re

# DuckDB's file lock held by another process (an analyst's DuckDB CLI or a `dbt build` by hand), a busy or stale
# network file, a dropped connection. Matched in messages because dbt reports them as text (run_results.json).
TRANSIENT_MESSAGE = re.compile(
    r"Could not set lock on file|Conflicting lock is held|Resource temporarily unavailable|Device or resource busy|"
    r"Stale file handle|Connection reset by peer|Connection timed out|Operation timed out",
    re.IGNORECASE,
)
TRANSIENT_ERRNO = {errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE, errno.ECONNRESET, errno.EINTR}
# What the user must fix; a retry only delays the message (causes.py's root causes).
PERMANENT_MESSAGE = re.compile(
    r"No space left on device|Disk quota exceeded|Permission denied|Read-only file system|Out of Memory",
    re.IGNORECASE,
)


def is_transient_text(text: str | None) -> bool:
    text = text or ""
    return bool(TRANSIENT_MESSAGE.search(text)) and not PERMANENT_MESSAGE.search(text)


def is_transient(error: BaseException) -> bool:
    """True when ``error``, or an error it was raised from, is transient and none says what the user must fix."""
    seen: set[int] = set()
    current: BaseException | None = error
    transient = False
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if PERMANENT_MESSAGE.search(text):
            return False
        if isinstance(current, OSError) and current.errno in TRANSIENT_ERRNO:
            transient = True
        if TRANSIENT_MESSAGE.search(text):
            transient = True
        current = current.__cause__ or current.__context__
    return transient
