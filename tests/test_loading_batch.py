"""An export's new files loaded in one batch (contact_warehouse/loading/loader.py, ``_load_batch``) give what the
same files loaded one by one give: every raw table's rows (lines, enriched columns, load sequence, order), the
quarantine, the repeated keys and the ledger (one row per file, in the same order); a file refused for its content
inside a batch is recorded as refused while the others load; a batch that fails or meets a file changing while it
is read loads file by file, each in its own transaction, as before."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from contact_warehouse.loading import loader
from contact_warehouse.loading.sources import EXPORTS, EXPORTS_BY_NAME
from tests import test_loading_fast, test_loading_fast_jsonl
from tests.loading_paths import contents, load
from tests.small_landing import CUSTOMERS, FORMS
from tests.test_tickets_loading import ticket

ALL_TABLES = [table.name for export in EXPORTS for table in export.tables]
CALLS_HEADER = test_loading_fast.CALLS_HEADER
CALL = "CA{n},,inbound,+1 415 555 01{n},+18005550100,C1,billing,A1,2026-10-07T09:00:00Z,,,2026-10-07T09:08:00Z,30,5,60,"


def _landing(folder: Path) -> Path:
    """The fast paths' landings together (bad values, repeated keys, blank lines, gzip, files that go the slow
    way), and inside a run of files of one export: a refused header, a broken gzip, a renamed copy, a quoted
    (record-by-record) file, a second customers snapshot, a refused and a valid JSON document."""
    test_loading_fast._landing(folder)
    test_loading_fast_jsonl._landing(folder)
    calls = folder / "calls"
    (calls / "calls_2026-10-05b.csv").write_text(
        CALLS_HEADER.replace("queue", "queue_name") + "\nCA1" + "," * 17 + "\n"
    )
    (calls / "calls_2026-10-05c.csv.gz").write_bytes(gzip.compress(b"x" * 100)[:20])
    (calls / "calls_2026-10-07.csv").write_bytes((calls / "calls_2026-10-05.csv").read_bytes())  # a renamed copy
    quoted = [CALL.format(n=30) + "completed,,true", CALL.format(n=31) + '"completed",,false', CALL.format(n=30) + ",,"]
    (calls / "calls_2026-10-08.csv").write_text("\n".join([CALLS_HEADER, *quoted]) + "\n")
    plain = [CALL.format(n=n) + "completed,," for n in (40, 41, 40)]
    (calls / "calls_2026-10-09.csv").write_text("\n".join([CALLS_HEADER, *plain]) + "\n")
    lines = CUSTOMERS.splitlines()
    snapshot = [*lines, "C3,new@example.com,415.555.0177,high,America/Los_Angeles,2025-03-01T00:00:00Z,"]
    (folder / "customers" / "customers_2026-10-07.csv").write_text("\n".join(snapshot) + "\n")
    forms = folder / "form_submissions"
    (forms / "forms_2026-10-07.json").write_text("")
    second = {"items": [dict(FORMS["items"][0], response_id="F2"), {"response_id": "F3", "submitted_at": "soon"}]}
    (forms / "forms_2026-10-08.json").write_text(json.dumps(second))
    tickets = folder / "tickets"
    (tickets / "tickets_2026-10-09.jsonl").write_text(json.dumps(ticket("T10")) + "\n" + json.dumps(ticket("T1")))
    return folder


def _everything(query) -> dict[str, list[tuple]]:
    out = contents(query, ALL_TABLES)
    out["ledger order"] = query("select file_path, status, load_seq from raw._load_ledger order by load_seq")
    for table in ALL_TABLES:  # the rows' order as stored (the lake writes each load in line order either way)
        out[f"{table} order"] = query(f"select _source_file, _source_line, _load_seq from raw.{table}")
    return out


@pytest.fixture
def landing(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CONTACT_WAREHOUSE_LAKE", "off")
    monkeypatch.setenv("CONTACT_WAREHOUSE_SETTLE_SECONDS", "0")
    return _landing(tmp_path / "landing")


def _by_batches(monkeypatch) -> list[int]:
    """Count the files of each batch loaded as a batch."""
    batches: list[int] = []
    real = loader._stage_batch

    def counting(con, export, files, enricher, final):
        results = real(con, export, files, enricher, final)
        batches.append(len(files))
        return results

    monkeypatch.setattr(loader, "_stage_batch", counting)
    return batches


def test_a_batch_loads_what_loading_file_by_file_loads(tmp_path: Path, landing: Path, monkeypatch) -> None:
    batches = _by_batches(monkeypatch)
    batched = _everything(load(tmp_path / "batch" / "warehouse.duckdb", landing, EXPORTS))
    assert len(batches) >= 4 and max(batches) >= 5  # calls, tickets, chats, forms, customers ... in batches
    monkeypatch.setenv("CONTACT_WAREHOUSE_LOAD_BATCH_MB", "0")
    batches.clear()
    single = _everything(load(tmp_path / "single" / "warehouse.duckdb", landing, EXPORTS))
    assert batches == []
    statuses = {row[:2] for row in single["ledger order"]}
    # The comparison covers refusals (a header, a broken gzip, an empty document), a skipped copy, rejections
    # and repeated keys.
    assert {status for _, status in statuses} == {"loaded", "refused"}
    assert len([s for _, s in statuses if s == "refused"]) >= 3
    assert len(single["quarantine"]) >= 10 and len(single["duplicates"]) >= 2
    for name in single:
        assert batched[name] == single[name], name


def test_a_small_batch_limit_splits_the_files_and_loads_the_same(tmp_path: Path, landing: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONTACT_WAREHOUSE_LOAD_BATCH_MB", "0.0012")  # ~1.2 kB: a few small files per batch
    exports = [EXPORTS_BY_NAME["calls"], EXPORTS_BY_NAME["tickets"]]
    batches = _by_batches(monkeypatch)
    small = _everything(load(tmp_path / "small" / "warehouse.duckdb", landing, exports))
    assert batches and max(batches) < 7
    monkeypatch.setenv("CONTACT_WAREHOUSE_LOAD_BATCH_MB", "0")
    single = _everything(load(tmp_path / "single" / "warehouse.duckdb", landing, exports))
    for name in single:
        assert small[name] == single[name], name


def test_a_failing_batch_loads_file_by_file_and_refuses_only_the_failing_file(
    tmp_path: Path, landing: Path, monkeypatch
) -> None:
    real = loader._record_duplicates
    bad = str(landing / "calls" / "calls_2026-10-09.csv")

    def out_of_memory_for_one_file(con, export, ctx):
        if "batch" in ctx or ctx["file"] == bad:
            raise duckdb.OutOfMemoryException("could not allocate block of size 20.0 MiB")
        return real(con, export, ctx)

    monkeypatch.setattr(loader, "_record_duplicates", out_of_memory_for_one_file)
    query = load(tmp_path / "w" / "warehouse.duckdb", landing, [EXPORTS_BY_NAME["calls"]])
    ledger = query("select file_path, status, reason from raw._load_ledger order by load_seq")
    assert [(Path(p).name, s) for p, s, _ in ledger] == [
        ("calls_2026-10-05.csv", "loaded"),
        ("calls_2026-10-05b.csv", "refused"),
        ("calls_2026-10-05c.csv.gz", "refused"),
        ("calls_2026-10-06.csv.gz", "loaded"),
        ("calls_2026-10-08.csv", "loaded"),
        ("calls_2026-10-09.csv", "refused"),
    ]
    assert "retried next run" in ledger[-1][2] and "OutOfMemoryException" in ledger[-1][2]
    assert query(f"select count(*) from raw.calls where _source_file = '{bad}'") == [(0,)]


def test_a_file_changed_while_its_batch_is_read_is_left_for_the_next_run(
    tmp_path: Path, landing: Path, monkeypatch
) -> None:
    changing = landing / "calls" / "calls_2026-10-08.csv"
    real = loader.stage_file
    touched: list[str] = []

    def touching(con, export, path, result, ctx, *args):
        real(con, export, path, result, ctx, *args)
        if path == changing and not touched:
            touched.append(path.name)
            changing.write_text(changing.read_text() + CALL.format(n=50) + "completed,,\n")

    monkeypatch.setattr(loader, "stage_file", touching)
    monkeypatch.setattr(loader, "_unchanged", lambda path, before: path != changing or not touched)
    query = load(tmp_path / "w" / "warehouse.duckdb", landing, [EXPORTS_BY_NAME["calls"]])
    assert touched
    statuses = dict(query("select file_path, status from raw._load_ledger"))
    assert str(changing) not in statuses  # unsettled: not recorded, read next run
    assert statuses[str(landing / "calls" / "calls_2026-10-09.csv")] == "loaded"
    assert query(f"select count(*) from raw.calls where _source_file = '{changing}'") == [(0,)]
