"""Writing one day of exports: CSV files, chat JSON lines and form JSON documents, with the planted bad rows
and the re-delivered calls file."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from contact_warehouse.loading.sources import EXPORTS_BY_NAME

CSV_EXPORTS: tuple[str, ...] = ("calls", "ivr_events", "sms", "surveys", "faq_views")
DAILY_EXPORTS: tuple[str, ...] = CSV_EXPORTS + ("chat_conversations", "form_submissions")
EXTENSIONS: dict[str, str] = {e: "csv" for e in CSV_EXPORTS} | {
    "chat_conversations": "jsonl",
    "form_submissions": "json",
    "customers": "csv",
    "faq_articles": "csv",
}
HEADERS: dict[str, list[str]] = {name: EXPORTS_BY_NAME[name].main_table.column_names for name in EXTENSIONS}
_COL = {name: {c: k for k, c in enumerate(cols)} for name, cols in HEADERS.items()}

# (export, day index, reason). Deterministic and independent of the number of days generated.
BAD_ROW_PLAN: tuple[tuple[str, int, str], ...] = (
    ("calls", 1, "missing_column"),
    ("ivr_events", 1, "unparseable_timestamp"),
    ("chat_conversations", 1, "invalid_json"),
    ("calls", 2, "extra_column"),
    ("surveys", 2, "missing_required_value"),
    ("form_submissions", 2, "missing_required_field"),
    ("calls", 3, "non_numeric_integer"),
)
REDELIVERY_DAY = 1  # the day whose calls file is delivered a second time with updated `resolved` values
_BAD_ID_PREFIX = {
    "calls": "CA",
    "ivr_events": "CA",
    "surveys": "SR",
    "chat_conversations": "CH",
    "form_submissions": "",
}


@dataclass(slots=True)
class DayBuffer:
    """Rows of one day, as ``(epoch, row)`` pairs, sorted by time when written."""

    calls: list = field(default_factory=list)
    ivr_events: list = field(default_factory=list)
    sms: list = field(default_factory=list)
    surveys: list = field(default_factory=list)
    faq_views: list = field(default_factory=list)
    chat_conversations: list = field(default_factory=list)
    form_submissions: list = field(default_factory=list)


def file_name(export: str, day_iso: str, suffix: str = "") -> str:
    return f"{export}/{export}_{day_iso}{suffix}.{EXTENSIONS[export]}"


class Writer:
    def __init__(self, out_dir: Path, seed: int, protected_agents: set[str]) -> None:
        self.out = out_dir
        self.seed = seed
        self.protected_agents = protected_agents
        self.files: list[str] = []
        self.bad_rows: list[dict] = []
        self.redelivered: dict | None = None
        self.rows: dict[str, int] = {}
        for export in EXTENSIONS:
            (out_dir / export).mkdir(parents=True, exist_ok=True)
        self._bad = {(e, d): r for e, d, r in BAD_ROW_PLAN}

    # --- generic ---------------------------------------------------------------------------------------

    def _count(self, key: str, n: int) -> None:
        self.rows[key] = self.rows.get(key, 0) + n

    def write_csv(self, rel: str, header: list[str], rows: list) -> None:
        with open(self.out / rel, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        self.files.append(rel)

    # --- one day ---------------------------------------------------------------------------------------

    def write_day(self, day: int, day_iso: str, buf: DayBuffer) -> None:
        key = itemgetter(0)
        for export in CSV_EXPORTS:
            pairs = getattr(buf, export)
            pairs.sort(key=key)
            rows = [p[1] for p in pairs]
            self._count(export, len(rows))
            rel = file_name(export, day_iso)
            if export == "calls" and day == REDELIVERY_DAY:
                self._redeliver(day_iso, rows)
            reason = self._bad.get((export, day))
            if reason and rows:
                rows = self._plant_csv(export, rel, rows, reason)
            self.write_csv(rel, HEADERS[export], rows)

        pairs = buf.chat_conversations
        pairs.sort(key=key)
        lines = [json.dumps(p[1], ensure_ascii=False, separators=(",", ":")) for p in pairs]
        self._count("chat_conversations", len(lines))
        self._count("chat_messages", sum(len(p[1]["messages"]) for p in pairs))
        rel = file_name("chat_conversations", day_iso)
        reason = self._bad.get(("chat_conversations", day))
        if reason and lines:
            pos = len(lines) // 2
            broken = dict(pairs[pos][1])
            broken["id"] = "CH" + "f" * 16
            text = json.dumps(broken, ensure_ascii=False, separators=(",", ":"))
            lines.insert(pos, text[: len(text) // 2])
            self.bad_rows.append({"export": "chat_conversations", "file": rel, "line": pos + 1, "reason": reason})
        with open(self.out / rel, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line)
                f.write("\n")
        self.files.append(rel)

        pairs = buf.form_submissions
        pairs.sort(key=key)
        items = [p[1] for p in pairs]
        self._count("form_submissions", len(items))
        rel = file_name("form_submissions", day_iso)
        reason = self._bad.get(("form_submissions", day))
        if reason and items:
            pos = len(items) // 2
            broken = {k: v for k, v in items[pos].items() if k != "response_id"}
            items = items[:pos] + [broken] + items[pos:]
            self.bad_rows.append({"export": "form_submissions", "file": rel, "line": pos, "reason": reason})
        with open(self.out / rel, "w", encoding="utf-8", newline="\n") as f:
            json.dump({"items": items}, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        self.files.append(rel)

    def _plant_csv(self, export: str, rel: str, rows: list, reason: str) -> list:
        pos = len(rows) // 2
        bad = list(rows[pos])
        cols = _COL[export]
        # A fresh id so that the bad row never collides with a good one.
        bad[0] = _BAD_ID_PREFIX[export] + "f" * 16 + f"{len(self.bad_rows):02d}"
        if reason == "missing_column":
            bad = bad[:-1]
        elif reason == "extra_column":
            bad = bad + ["unexpected"]
        elif reason == "unparseable_timestamp":
            bad[cols["event_at"] if export == "ivr_events" else cols["started_at"]] = "2026-13-45T99:00"
        elif reason == "non_numeric_integer":
            bad[cols["hold_seconds"]] = "abc"
        elif reason == "missing_required_value":
            bad[cols["score"]] = ""
        self.bad_rows.append({"export": export, "file": rel, "line": pos + 2, "reason": reason})
        return rows[:pos] + [bad] + rows[pos:]

    def _redeliver(self, day_iso: str, rows: list) -> None:
        cols = _COL["calls"]
        ir, ia, ist, idir = cols["resolved"], cols["agent_id"], cols["status"], cols["direction"]
        candidates = [
            k
            for k, r in enumerate(rows)
            if r[ist] == "completed"
            and r[ia]
            and r[ia] not in self.protected_agents
            and r[idir] == "inbound"
            and r[ir] in ("", "false")
        ]
        rng = random.Random(f"redelivery:{self.seed}")
        chosen = sorted(rng.sample(candidates, min(4, len(candidates))))
        changed = []
        new_rows = list(rows)
        for k in chosen:
            row = list(rows[k])
            changed.append({"call_id": row[0], "resolved_before": row[ir], "resolved_after": "true"})
            row[ir] = "true"
            new_rows[k] = row
        rel = file_name("calls", day_iso, "_redelivery")
        self.write_csv(rel, HEADERS["calls"], new_rows)
        self._count("calls_redelivered", len(new_rows))
        self.redelivered = {
            "file": rel,
            "repeats": file_name("calls", day_iso),
            "rows": len(new_rows),
            "updated": changed,
        }
