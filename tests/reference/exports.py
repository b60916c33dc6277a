"""Read the raw exports of a landing folder with pandas, as the tools delivered them (DOMAIN.md section 1).

Independent of the loader: files are read in name order (DECISIONS "The latest export wins": a re-delivery sorts
after the file it corrects), a record that cannot be parsed is dropped and counted (the loader quarantines it),
and for every natural key the row of the latest file, then the last line of that file, is kept.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# Natural key of each CSV export (the loader's deduplication key, from DOMAIN.md's "grain and key fields").
CSV_EXPORTS: dict[str, list[str]] = {
    "calls": ["call_id"],
    "ivr_events": ["call_id", "seq"],
    "sms": ["message_id"],
    "surveys": ["response_id"],
    "faq_articles": ["article_id"],
    "faq_views": ["view_id"],
    "customers": ["customer_ref"],
}
# Columns of each CSV export (DOMAIN.md section 1): an export without any file is an empty table.
HEADERS: dict[str, list[str]] = {
    "calls": [
        "call_id", "parent_call_id", "direction", "from_number", "to_number", "customer_ref", "queue", "agent_id",
        "started_at", "queued_at", "answered_at", "ended_at", "hold_seconds", "silence_seconds", "wrap_seconds",
        "status", "disposition", "resolved",
    ],
    "ivr_events": ["call_id", "seq", "event_at", "node", "event_type", "key"],
    "sms": [
        "message_id", "thread_id", "direction", "from_number", "to_number", "sent_at", "agent_id", "body", "status",
    ],
    "surveys": [
        "response_id", "survey_type", "channel", "contact_id", "respondent", "responded_at", "score", "comment",
    ],
    "faq_articles": ["article_id", "title", "section", "updated_at"],
    "faq_views": [
        "view_id", "article_id", "visitor_id", "customer_ref", "viewed_at", "seconds_on_page", "vote", "search_query",
    ],
    "customers": ["customer_ref", "email", "phone", "value_tier", "timezone", "created_at", "churned_at"],
}  # fmt: skip
# Typed columns: a non-empty value that does not parse makes the record bad (DECISIONS "quarantined whole").
TIMESTAMPS: dict[str, list[str]] = {
    "calls": ["started_at", "queued_at", "answered_at", "ended_at"],
    "ivr_events": ["event_at"],
    "sms": ["sent_at"],
    "surveys": ["responded_at"],
    "faq_articles": ["updated_at"],
    "faq_views": ["viewed_at"],
    "customers": ["created_at", "churned_at"],
}
NUMBERS: dict[str, list[str]] = {
    "calls": ["hold_seconds", "silence_seconds", "wrap_seconds"],
    "ivr_events": ["seq"],
    "surveys": ["score"],
    "faq_views": ["seconds_on_page"],
}
REQUIRED: dict[str, list[str]] = {
    "calls": ["call_id", "direction", "started_at"],
    "ivr_events": ["call_id", "seq", "event_at"],
    "sms": ["message_id", "sent_at"],
    "surveys": ["response_id", "survey_type", "responded_at", "score"],
    "faq_articles": ["article_id"],
    "faq_views": ["view_id", "viewed_at"],
    "customers": ["customer_ref"],
}


@dataclass
class Exports:
    """Every export of a landing folder, deduplicated; timestamps are naive UTC."""

    tables: dict[str, pd.DataFrame]
    rejected: Counter = field(default_factory=Counter)
    tickets: list[dict] = field(default_factory=list)  # the help desk's tickets as JSON objects (reference/tickets.py)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def to_utc(values: pd.Series) -> pd.Series:
    """ISO-8601 with offset -> naive UTC (DECISIONS: a value without offset is UTC)."""
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def _read_csv_export(folder: Path, name: str, rejected: Counter) -> pd.DataFrame:
    rows: list[list[str]] = []
    header = HEADERS[name]
    for path in sorted((folder / name).glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            file_header = next(reader, None)
            if file_header is None:
                continue
            if file_header != header:
                # The loader refuses a file whose header differs: none of its rows count.
                rejected[name] += sum(1 for _ in reader)
                continue
            for row in reader:
                if len(row) != len(header):
                    rejected[name] += 1
                    continue
                rows.append(row)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame = frame.replace({"": None})
    bad = pd.Series(False, index=frame.index)
    for column in REQUIRED.get(name, []):
        bad |= frame[column].isna()
    for column in TIMESTAMPS.get(name, []):
        parsed = to_utc(frame[column])
        bad |= frame[column].notna() & parsed.isna()
        frame[column] = parsed
    for column in NUMBERS.get(name, []):
        parsed = pd.to_numeric(frame[column], errors="coerce")
        bad |= frame[column].notna() & parsed.isna()
        frame[column] = parsed
    rejected[name] += int(bad.sum())
    frame = frame[~bad]
    # Latest export wins: rows are in file-name then line order, so the last one of each key is the latest.
    return frame.drop_duplicates(CSV_EXPORTS[name], keep="last").reset_index(drop=True)


def _read_chats(folder: Path, rejected: Counter) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    conversations: dict[str, dict] = {}
    for path in sorted((folder / "chat_conversations").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not item.get("id") or not item.get("created_at"):
                    raise ValueError("missing id or created_at")
                stamps = [item["created_at"], item.get("closed_at"), (item.get("bot") or {}).get("handed_over_at")]
                stamps += [m["sent_at"] for m in item.get("messages") or []]
                if to_utc(pd.Series([s for s in stamps if s], dtype=object)).isna().any():
                    raise ValueError("bad timestamp")
            except (ValueError, KeyError, TypeError):
                rejected["chat_conversations"] += 1
                continue
            conversations.pop(item["id"], None)
            conversations[item["id"]] = item  # the latest export of the conversation wins, messages included
    heads, messages, tags = [], [], []
    for item in conversations.values():
        visitor, bot = item.get("visitor") or {}, item.get("bot") or {}
        heads.append(
            {
                "conversation_id": item["id"],
                "created_at": item["created_at"],
                "closed_at": item.get("closed_at"),
                "visitor_id": visitor.get("visitor_id"),
                "email": visitor.get("email"),
                "phone": visitor.get("phone"),
                "customer_ref": visitor.get("customer_ref"),
                "bot_intent": bot.get("intent"),
                "handed_over_at": bot.get("handed_over_at"),
                "agent_id": item.get("agent_id"),
                "rating": item.get("rating"),
                "resolved": item.get("resolved"),
            }
        )
        for index, message in enumerate(item.get("messages") or []):
            messages.append(
                {
                    "conversation_id": item["id"],
                    "message_id": message.get("id"),
                    "message_index": index,
                    "sent_at": message.get("sent_at"),
                    "author": message.get("author"),
                    "text": message.get("text"),
                }
            )
        for index, tag in enumerate(item.get("tags") or []):
            tags.append({"conversation_id": item["id"], "tag_index": index, "tag": tag})
    chats = pd.DataFrame(
        heads,
        columns=[
            "conversation_id", "created_at", "closed_at", "visitor_id", "email", "phone", "customer_ref",
            "bot_intent", "handed_over_at", "agent_id", "rating", "resolved",
        ],
    )  # fmt: skip
    for column in ("created_at", "closed_at", "handed_over_at"):
        chats[column] = to_utc(chats[column])
    chat_messages = pd.DataFrame(
        messages, columns=["conversation_id", "message_id", "message_index", "sent_at", "author", "text"]
    )
    chat_messages["sent_at"] = to_utc(chat_messages["sent_at"])
    chat_tags = pd.DataFrame(tags, columns=["conversation_id", "tag_index", "tag"])
    return chats, chat_messages, chat_tags


def _read_forms(folder: Path, rejected: Counter) -> pd.DataFrame:
    submissions: dict[str, dict] = {}
    for path in sorted((folder / "form_submissions").glob("*.json")):
        try:
            items = json.loads(path.read_text(encoding="utf-8")).get("items") or []
        except ValueError:
            continue  # an unreadable document is refused whole by the loader
        for item in items:
            try:
                if not item.get("response_id") or pd.isna(to_utc(pd.Series([item["submitted_at"]]))[0]):
                    raise ValueError("missing id or bad timestamp")
            except (ValueError, KeyError, TypeError, AttributeError):
                rejected["form_submissions"] += 1
                continue
            submissions.pop(item["response_id"], None)
            submissions[item["response_id"]] = item
    rows = []
    for item in submissions.values():
        answers = {a.get("field"): a.get("value") for a in item.get("answers") or [] if isinstance(a, dict)}
        rows.append(
            {
                "response_id": item["response_id"],
                "form_id": item.get("form_id"),
                "submitted_at": item["submitted_at"],
                "visitor_id": (item.get("hidden") or {}).get("visitor_id"),
                "email": answers.get("email"),
                "phone": answers.get("phone"),
                "topic": answers.get("topic"),
            }
        )
    forms = pd.DataFrame(
        rows, columns=["response_id", "form_id", "submitted_at", "visitor_id", "email", "phone", "topic"]
    )
    forms["submitted_at"] = to_utc(forms["submitted_at"])
    return forms


def read_exports(landing: Path) -> Exports:
    """Read every export of ``landing`` (one subfolder per source, as in DOMAIN.md section 1)."""
    rejected: Counter = Counter()
    tables = {name: _read_csv_export(landing, name, rejected) for name in CSV_EXPORTS}
    tables["chats"], tables["chat_messages"], tables["chat_tags"] = _read_chats(landing, rejected)
    tables["forms"] = _read_forms(landing, rejected)
    calls = tables["calls"]
    calls["resolved"] = calls["resolved"].map({"true": True, "false": False})
    from tests.reference.tickets import read_tickets

    return Exports(tables=tables, rejected=rejected, tickets=read_tickets(landing, rejected))
