"""The JSON Lines fast path (contact_warehouse/loading/scan.py, ``plain_jsonl``) stages exactly the lines the
line-by-line path stages: same rows, lines, enriched columns, quarantine, repeated keys and ledger; and a file it
cannot vouch for (carriage returns, a byte order mark, a NUL, bytes that are not UTF-8, an over-long line) goes the
slow way."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from contact_warehouse.loading import scan
from contact_warehouse.loading.sources import EXPORTS, EXPORTS_BY_NAME
from tests.loading_paths import contents, load
from tests.small_landing import CHATS, write_landing
from tests.test_tickets_loading import ticket

JSONL_EXPORTS = [e for e in EXPORTS if e.format == "jsonl"]
JSONL_TABLES = [table.name for export in JSONL_EXPORTS for table in export.tables]


def _lines(*docs) -> list[str]:
    return [d if isinstance(d, str) else json.dumps(d, ensure_ascii=False) for d in docs]


def _landing(folder: Path) -> Path:
    write_landing(folder)
    tickets = folder / "tickets"
    tickets.mkdir()
    bad_time = ticket("T3", created_at="yesterday")
    no_id = ticket("T4")
    no_id.pop("id")
    # Blank and whitespace-only lines, invalid JSON, a JSON value that is not an object, a bad value, a repeated
    # key, non-ASCII text: each counted, skipped or quarantined by line as the slow path does.
    day1 = _lines(
        ticket("T1"),
        "",
        "   \t",
        ticket("T2", subject="Zoë 🚀 ça"),
        "{not json",
        "[1, 2]",
        bad_time,
        no_id,
        ticket("T1", subject="again"),
    )
    (tickets / "tickets_2026-10-05.jsonl").write_text("\n".join(day1) + "\n")
    # No final newline, and compressed.
    day2 = "\n".join(_lines(ticket("T5"), ticket("T6", status="open")))
    (tickets / "tickets_2026-10-06.jsonl.gz").write_bytes(gzip.compress(day2.encode()))
    # Files the fast path refuses to vouch for: CRLF line ends and a byte order mark.
    (tickets / "tickets_2026-10-07.jsonl").write_bytes("\r\n".join(_lines(ticket("T7"), ticket("T8"))).encode())
    (tickets / "tickets_2026-10-08.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(ticket("T9")).encode() + b"\n")
    chats = folder / "chat_conversations"
    extra = [dict(CHATS[0], id="CH90"), "", dict(CHATS[0], id="CH91", created_at="not a time"), "null"]
    (chats / "chat_2026-10-06.jsonl").write_text("\n".join(_lines(*extra)) + "\n\n")
    return folder


def test_the_fast_path_loads_what_the_line_by_line_path_loads(tmp_path: Path, monkeypatch) -> None:
    landing = _landing(tmp_path / "landing")
    monkeypatch.setenv("CONTACT_WAREHOUSE_LAKE", "off")
    monkeypatch.setenv("CONTACT_WAREHOUSE_SETTLE_SECONDS", "0")
    plain = scan.plain_jsonl
    taken: list[str] = []

    def counting(path, limit):
        result = plain(path, limit)
        if result is not None:
            taken.append(Path(path).name)
        return result

    monkeypatch.setattr(scan, "plain_jsonl", counting)
    fast = contents(load(tmp_path / "fast" / "warehouse.duckdb", landing, JSONL_EXPORTS), JSONL_TABLES)
    assert sorted(taken) == [
        "chat_2026-10-05.jsonl",
        "chat_2026-10-06.jsonl",
        "tickets_2026-10-05.jsonl",
        "tickets_2026-10-06.jsonl.gz",
    ]
    monkeypatch.setattr(scan, "plain_jsonl", lambda path, limit: None)
    slow = contents(load(tmp_path / "slow" / "warehouse.duckdb", landing, JSONL_EXPORTS), JSONL_TABLES)
    # The comparison covers rejections (invalid JSON, a non-object, bad values, a missing key) and repeats.
    assert len(fast["quarantine"]) >= 6 and fast["duplicates"]
    assert {row[3] for row in fast["ledger"]} >= {2, 3}  # rows loaded per file: blank lines are not records
    for name in slow:
        assert fast[name] == slow[name], name


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "T1"}\r\n',  # CRLF
        b'\xef\xbb\xbf{"id": "T1"}\n',  # a byte order mark
        b'{"id": "T1", "subject": "a\x00"}\n',  # NUL
        b'{"id": "T1", "subject": "compl\xe9ted"}\n',  # a Latin-1 byte
        b"",  # empty
    ],
)
def test_a_file_the_fast_path_cannot_vouch_for_is_read_line_by_line(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(body)
    assert scan.plain_jsonl(path, 1_000_000) is None


def test_an_over_long_line_goes_the_slow_way_and_blank_lines_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(b'{"id": "T1"}\n\n  \n{"id": "T2"}')
    assert scan.plain_jsonl(path, 12) == ([1, 4], ['{"id": "T1"}', '{"id": "T2"}'])
    assert scan.plain_jsonl(path, 11) is None
    assert EXPORTS_BY_NAME["tickets"].format == "jsonl"
