"""Probes: which files are read, and that exactly the file named is read (tester's findings B, files).
Every file of the landing folder ends up in the ledger, except files still being written, which wait."""

from __future__ import annotations

import csv
import gzip
import json
import os
import time
from pathlib import Path

CALLS_HEADER = (
    "call_id,parent_call_id,direction,from_number,to_number,customer_ref,queue,agent_id,started_at,queued_at,"
    "answered_at,ended_at,hold_seconds,silence_seconds,wrap_seconds,status,disposition,resolved"
)


def call_row(call_id: str) -> str:
    return f"{call_id},,inbound,4155550123,,C1,billing,A1,2026-10-05T09:14:03Z,,,,10,5,30,completed,billing_q,true"


def calls_text(*ids: str) -> str:
    return "\n".join([CALLS_HEADER, *(call_row(i) for i in ids)]) + "\n"


def csv_ids(text: str) -> list[str]:
    """First column of each record, by Python's csv reader (the independent count)."""
    return [row[0] for row in list(csv.reader(text.splitlines()))[1:] if row]


def chat_line(conversation_id: str) -> str:
    return json.dumps({"id": conversation_id, "created_at": "2026-10-05T10:00:00Z"}) + "\n"


def ledger(query) -> dict[str, tuple]:
    rows = query("select file_path, status, rows_read, rows_loaded, reason from raw._load_ledger")
    return {Path(path).name: (status, read, loaded, reason) for path, status, read, loaded, reason in rows}


def test_gzip_and_upper_case_exports_are_loaded(landing, load_all, query) -> None:
    folder = landing / "calls"
    folder.mkdir()
    gz_text, upper_text = calls_text("g1", "g2", "g3"), calls_text("u1", "u2")
    (folder / "calls_2026-10-12.csv.gz").write_bytes(gzip.compress(gz_text.encode()))
    (folder / "CALLS_2026-10-13.CSV").write_text(upper_text)

    load_all(landing)

    files = ledger(query)
    assert files["calls_2026-10-12.csv.gz"][:3] == ("loaded", len(csv_ids(gz_text)), len(csv_ids(gz_text)))
    assert files["CALLS_2026-10-13.CSV"][:3] == ("loaded", len(csv_ids(upper_text)), len(csv_ids(upper_text)))
    loaded = sorted(r[0] for r in query("select call_id from raw.calls"))
    assert loaded == sorted(csv_ids(gz_text) + csv_ids(upper_text))


def test_every_file_of_the_landing_folder_is_in_the_ledger(landing, load_all, query) -> None:
    (landing / "calls").mkdir()
    (landing / "calls" / "calls_2026-10-05.csv").write_text(calls_text("c1"))
    (landing / "calls" / "calls_2026-10-05.txt").write_text("notes")
    (landing / "calls" / "2026").mkdir()
    (landing / "calls" / "2026" / "calls_2026-10-06.csv").write_text(calls_text("c2"))
    (landing / "zendesk").mkdir()
    (landing / "zendesk" / "export.csv").write_text("a,b\n")
    (landing / "README.txt").write_text("hello")

    load_all(landing)

    files = ledger(query)
    on_disk = {p.name for p in landing.rglob("*") if p.is_file()}
    assert set(files) == on_disk
    assert files["calls_2026-10-05.csv"][0] == "loaded"
    reasons = {name: reason for name, (status, _, _, reason) in files.items() if status == "ignored"}
    assert "does not match the file names of export 'calls'" in reasons["calls_2026-10-05.txt"]
    assert "nested folder" in reasons["calls_2026-10-06.csv"]
    assert "folder 'zendesk' belongs to no export" in reasons["export.csv"]
    assert "not in an export folder" in reasons["README.txt"]
    assert all(str(landing) in reason for reason in reasons.values())
    # A second run records nothing again.
    load_all(landing)
    assert len(query("select * from raw._load_ledger")) == len(on_disk)


def test_a_file_still_being_written_waits_for_the_next_run(landing, load_all, query, monkeypatch) -> None:
    monkeypatch.setenv("CONTACT_WAREHOUSE_SETTLE_SECONDS", "60")
    folder = landing / "calls"
    folder.mkdir()
    settled, writing = folder / "calls_2026-10-05.csv", folder / "calls_2026-10-06.csv"
    settled.write_text(calls_text("c1"))
    old = time.time() - 120
    os.utime(settled, (old, old))
    writing.write_text(CALLS_HEADER + "\n" + call_row("c2") + "\nc3,,inbou")  # half written, just now
    (folder / "calls_2026-10-07.csv.part").write_text(calls_text("c4"))

    report = load_all(landing)["calls"]

    statuses = {Path(f.path).name: (f.status, f.message) for f in report.files}
    assert statuses["calls_2026-10-05.csv"][0] == "loaded"
    assert statuses["calls_2026-10-06.csv"][0] == "unsettled"
    assert "CONTACT_WAREHOUSE_SETTLE_SECONDS" in statuses["calls_2026-10-06.csv"][1]
    assert statuses["calls_2026-10-07.csv.part"][0] == "unsettled"
    assert set(ledger(query)) == {"calls_2026-10-05.csv"}
    assert [r[0] for r in query("select call_id from raw.calls")] == ["c1"]

    # Finished and settled: the next run loads it whole.
    writing.write_text(calls_text("c2", "c3"))
    os.utime(writing, (old, old))
    load_all(landing)
    assert ledger(query)["calls_2026-10-06.csv"][:3] == ("loaded", 2, 2)


def test_file_names_with_glob_characters_are_read_as_themselves(landing, load_all, query) -> None:
    calls, chats = landing / "calls", landing / "chat_conversations"
    calls.mkdir()
    chats.mkdir()
    texts = {
        "calls_2026-10-11.csv": calls_text("a1"),
        "calls_2026-10-12.csv": calls_text("b1", "b2"),
        "calls_2026-10-1[12].csv": calls_text("x1"),
        "calls_*.csv": calls_text("y1", "y2", "y3"),
    }
    for name, text in texts.items():
        (calls / name).write_text(text)
    (chats / "chat_conversations_2026-10-11.jsonl").write_text(chat_line("k1") + chat_line("k2"))
    (chats / "chat_conversations_2026-10-1?.jsonl").write_text(chat_line("q1"))

    load_all(landing)

    by_file = query("select _source_file, list(call_id order by call_id) from raw.calls group by 1")
    assert {Path(f).name: ids for f, ids in by_file} == {name: sorted(csv_ids(t)) for name, t in texts.items()}
    by_chat = query("select _source_file, count(*) from raw.chat_conversations group by 1")
    assert {Path(f).name: n for f, n in by_chat} == {
        "chat_conversations_2026-10-11.jsonl": 2,
        "chat_conversations_2026-10-1?.jsonl": 1,
    }


def test_a_symbolic_link_out_of_the_landing_folder_is_refused(landing, load_all, query, tmp_path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text(calls_text("s1"))
    (landing / "calls").mkdir()
    (landing / "archive").mkdir()
    inside = landing / "archive" / "calls_2026-10-04.csv"
    inside.write_text(calls_text("i1"))
    (landing / "calls" / "calls_2026-10-05.csv").symlink_to(outside)
    (landing / "calls" / "calls_2026-10-06.csv").symlink_to(inside)

    load_all(landing)

    files = ledger(query)
    status, read, _, reason = files["calls_2026-10-05.csv"]
    assert (status, read) == ("refused", 0)
    assert "outside the landing folder" in reason and str(outside) in reason
    assert files["calls_2026-10-06.csv"][:3] == ("loaded", 1, 1)
    assert [r[0] for r in query("select call_id from raw.calls")] == ["i1"]


def test_an_export_folder_linked_out_of_the_landing_folder_is_not_read(landing, load_all, query, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "calls_2026-10-05.csv").write_text(calls_text("s1", "s2"))
    (landing / "calls").symlink_to(elsewhere, target_is_directory=True)

    load_all(landing)

    [(status, read, reason)] = query("select status, rows_read, reason from raw._load_ledger")
    assert (status, read) == ("refused", 0)
    assert "outside the landing folder" in reason and str(elsewhere / "calls_2026-10-05.csv") in reason
    assert query("select count(*) from raw.calls") == [(0,)]
