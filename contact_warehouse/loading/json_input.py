"""Mapping profiles, JSON input: a vendor's JSON document or JSON lines flattened into rows of text, one per
element of the innermost list of ``records`` (a Genesys Cloud conversation's segments), each carrying the fields
of every level above it. A field is named by its path from the record: ``conversationId``,
``participants.purpose``, ``participants.sessions.segments.segmentType``. The rows of one record share its line:
the physical line of a JSON line, the record's 1-based position in a document."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd


class JsonInputError(ValueError):
    """A foreign JSON file cannot be read (the loader refuses it, naming the file and where)."""


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fields(obj: dict, prefix: str, skip: frozenset[str]) -> dict[str, str]:
    """The object's fields as text: nested objects by dotted name, lists of values joined with commas, lists of
    objects (not on a records path) as their JSON text. ``skip`` holds the dotted names on a records path: their
    elements are rows of their own."""
    out: dict[str, str] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if name in skip:
            continue
        if isinstance(value, dict):
            out.update(_fields(value, f"{name}.", skip))
        elif isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                out[name] = ",".join(_scalar(v) for v in value)
            else:
                out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = _scalar(value)
    return out


def _walk(obj: Any, path: list[str], prefix: str, skip: frozenset[str]) -> Iterator[dict[str, str]]:
    """Rows of one record: an element of a missing or empty list still gives its parent's row (nothing lost)."""
    if not isinstance(obj, dict):
        yield {prefix.rstrip(".") or "value": _scalar(obj)}
        return
    own = _fields(obj, prefix, skip)
    children = obj.get(path[0]) if path else None
    if not path or not isinstance(children, list) or not children:
        yield own
        return
    for child in children:
        for row in _walk(child, path[1:], f"{prefix}{path[0]}.", skip):
            yield {**own, **row}


def _paths(records: str | tuple[str, ...]) -> list[list[str]]:
    """The records paths as lists of steps; several paths must share their first step for a JSON document (the
    list of records), which is then removed from each."""
    listed = [records] if isinstance(records, str) else list(records)
    return [[part for part in one.split(".") if part] for one in listed] or [[]]


def read_json_rows(
    path: Path, encoding: str, fmt: str, records: str | tuple[str, ...]
) -> tuple[pd.DataFrame, pd.Series]:
    """The flattened rows as text and each row's line (see the module docstring). With several records paths
    (a ticket's audit events and its tags), each path gives its own rows of the record, one after the other;
    a row of one path leaves out the lists of the others (they have rows of their own)."""
    paths = _paths(records)
    steps = paths[0]
    raw = Path(path).read_bytes()
    text = (gzip.decompress(raw) if Path(path).suffix.lower() == ".gz" else raw).decode(encoding)
    roots: list[tuple[int, Any]] = []
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    roots.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise JsonInputError(f"{path}: line {number}: invalid JSON: {exc.msg}") from None
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise JsonInputError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        items = doc
        if steps:
            items = doc.get(steps[0]) if isinstance(doc, dict) else None
            paths = [one[1:] for one in paths]
        if not isinstance(items, list):
            raise JsonInputError(f"{path}: no list of records at '{records or '(top level)'}'")
        roots = [(position, item) for position, item in enumerate(items, start=1)]
    # Every list on a records path, by its dotted name from the record, is left out of the fields of a row.
    skip = frozenset(".".join(one[: depth + 1]) for one in paths for depth in range(len(one)))
    rows, lines = [], []
    for line, root in roots:
        for steps in paths:
            for row in _walk(root, steps, "", skip):
                rows.append(row)
                lines.append(line)
    frame = pd.DataFrame(rows, dtype=object).fillna("")
    return frame.reset_index(drop=True), pd.Series(lines, index=frame.index, dtype="int64")
