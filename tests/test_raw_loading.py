"""The raw loader: ledger, quarantine, idempotence, refusals (hand-made fixtures with known bad rows)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contact_warehouse.loading.loader import connect_for_loading, load_export
from contact_warehouse.loading.sources import EXPORTS

FIXTURE_EXPORTS = Path(__file__).parent / "fixtures" / "exports"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    target = tmp_path / "landing"
    shutil.copytree(FIXTURE_EXPORTS, target)
    return target


def _load_all(db: Path, landing: Path) -> dict:
    con = connect_for_loading(db)
    try:
        return {e.name: load_export(con, e.name, landing) for e in EXPORTS}
    finally:
        con.close()


def _snapshot(db: Path) -> dict[str, list]:
    con = connect_for_loading(db)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
            ).fetchall()
        ]
        return {t: sorted(map(repr, con.execute(f"select * from raw.{t}").fetchall())) for t in tables}
    finally:
        con.close()


def test_ledger_reconciles_and_quarantine_names_file_line_field(warehouse: Path, landing: Path) -> None:
    reports = _load_all(warehouse, landing)
    calls = reports["calls"].files[0]
    assert (calls.rows_read, calls.rows_loaded, calls.rows_rejected) == (7, 2, 5)
    chats = reports["chat_conversations"].files[0]
    assert (chats.rows_read, chats.rows_loaded, chats.rows_rejected) == (4, 1, 3)
    forms = reports["form_submissions"].files[0]
    assert (forms.rows_read, forms.rows_loaded, forms.rows_rejected) == (2, 1, 1)

    con = connect_for_loading(warehouse)
    ledger = con.execute(
        """select count(*) filter (where status <> 'ignored'),
                  count(*) filter (where rows_read <> rows_loaded + rows_rejected + rows_filtered)
           from raw._load_ledger"""
    ).fetchone()
    assert ledger == (4, 0)
    # The fixtures' README is in no export folder: recorded as ignored, with the reason.
    ignored = con.execute("select file_path, reason from raw._load_ledger where status = 'ignored'").fetchall()
    assert [Path(path).name for path, _ in ignored] == ["README.md"]
    assert "not in an export folder" in ignored[0][1]
    quarantine = con.execute("select export, line, field, reason from raw._quarantine order by export, line").fetchall()
    assert ("calls", 3, "hold_seconds", "not an integer 'abc'") in quarantine
    assert ("calls", 5, "started_at", "unparseable timestamp '2026-13-45T99:00'") in quarantine
    assert ("calls", 7, "call_id", "missing required value") in quarantine
    assert {(e, line) for e, line, _, _ in quarantine if e == "calls"} == {
        ("calls", 3),
        ("calls", 4),
        ("calls", 5),
        ("calls", 6),
        ("calls", 7),
    }
    assert ("chat_conversations", 2, "*", "invalid JSON") in quarantine
    assert ("chat_conversations", 3, "messages[].sent_at", "unparseable timestamp 'bad'") in quarantine
    assert ("form_submissions", 1, "response_id", "missing required value") in quarantine
    # Rows keep their provenance, and timestamps are UTC (an offset is honoured, none means UTC).
    rows = con.execute(
        "select call_id, cast(started_at as varchar), _source_line, _source_file from raw.calls order by call_id"
    ).fetchall()
    assert [r[:3] for r in rows] == [("c1", "2026-10-05 13:14:03", 2), ("c7", "2026-10-05 09:14:03", 8)]
    assert all(r[3].endswith("calls_2026-10-05.csv") for r in rows)
    # A conversation's messages and tags are loaded with it, or quarantined with it.
    assert con.execute("select count(*) from raw.chat_messages").fetchone()[0] == 2
    assert con.execute("select count(*) from raw.chat_tags").fetchone()[0] == 2
    assert con.execute("select count(*) from raw.form_answers").fetchone()[0] == 2
    con.close()


def test_header_mismatch_is_refused_whole_and_named(warehouse: Path, landing: Path) -> None:
    surveys = _load_all(warehouse, landing)["surveys"].files[0]
    assert surveys.status == "refused"
    assert "surveys_2026-10-05.csv" in surveys.message
    assert "missing columns ['score', 'comment']" in surveys.message
    con = connect_for_loading(warehouse)
    assert con.execute("select status from raw._load_ledger where export = 'surveys'").fetchall() == [("refused",)]
    assert con.execute("select count(*) from raw.surveys").fetchone()[0] == 0
    con.close()


def test_loading_the_same_folder_twice_changes_no_table(warehouse: Path, landing: Path) -> None:
    _load_all(warehouse, landing)
    before = _snapshot(warehouse)
    second = _load_all(warehouse, landing)
    assert all(f.status == "skipped" for r in second.values() for f in r.files)
    assert _snapshot(warehouse) == before


def test_a_new_file_with_a_known_row_is_loaded_and_kept_apart(warehouse: Path, landing: Path) -> None:
    _load_all(warehouse, landing)
    redelivery = landing / "calls" / "calls_2026-10-05_redelivery.csv"
    lines = (landing / "calls" / "calls_2026-10-05.csv").read_text().splitlines()
    redelivery.write_text("\n".join([lines[0], lines[1].replace(",true", ",false")]) + "\n")
    report = _load_all(warehouse, landing)["calls"]
    assert [f.status for f in report.files] == ["skipped", "loaded"]
    con = connect_for_loading(warehouse)
    versions = con.execute("select resolved, _load_seq from raw.calls where call_id = 'c1' order by _load_seq")
    assert [r[0] for r in versions.fetchall()] == [True, False]
    con.close()


def test_foreign_exports_load_through_mapping_profiles(warehouse: Path, tmp_path: Path) -> None:
    """A Zendesk Talk and an Amazon Connect export land in their folders and load as calls (and surveys),
    with bad rows quarantined under the user's own file and line."""
    from contact_warehouse.settings import MAPPING_PROFILES_DIR

    landing = tmp_path / "foreign_landing"
    shutil.copytree(Path(__file__).parent / "fixtures" / "foreign", landing)
    con = connect_for_loading(warehouse)
    calls = load_export(con, "calls", landing, MAPPING_PROFILES_DIR)
    surveys = load_export(con, "surveys", landing, MAPPING_PROFILES_DIR)
    # Rows a profile's filter leaves out (the CTR's chat and monitoring contacts; unrated calls for surveys)
    # are counted: the ledger reconciles with the vendor's file.
    assert (calls.rows_read, calls.rows_loaded, calls.rows_rejected, calls.rows_filtered) == (17, 12, 3, 2)
    # The rating of Zendesk line 9 is rejected with its call (one verdict per source row, in every target).
    assert (surveys.rows_read, surveys.rows_loaded, surveys.rows_rejected, surveys.rows_filtered) == (8, 3, 1, 4)
    quarantined = con.execute(
        "select export, file_path, line, field from raw._quarantine order by file_path, line, export"
    ).fetchall()
    assert [(e, Path(f).name, line, field) for e, f, line, field in quarantined] == [
        ("calls", "ctr_sample.csv", 9, "calls.started_at"),
        ("calls", "zendesk_calls_sample.csv", 7, "calls.started_at"),
        ("calls", "zendesk_calls_sample.csv", 9, "calls.ended_at"),
        ("surveys", "zendesk_calls_sample.csv", 9, "calls.ended_at"),
    ]
    # Loading again adds nothing: the foreign files are in the ledger under their own hash.
    again = load_export(con, "calls", landing, MAPPING_PROFILES_DIR)
    assert all(f.status == "skipped" for f in again.files)
    con.close()


def test_every_generated_source_loads_with_the_right_row_counts(warehouse: Path, tmp_path: Path) -> None:
    """Generated exports: every good row lands in its raw table and exactly the planted bad rows are
    quarantined, at the planted file and line."""
    import json

    from contact_warehouse.generator import generate

    landing = tmp_path / "generated"
    summary = generate(landing, customers=200, days=10, seed=3)
    reports = _load_all(warehouse, landing)
    con = connect_for_loading(warehouse)
    counts = {
        t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
        for t in (
            "calls",
            "ivr_events",
            "sms",
            "surveys",
            "faq_articles",
            "faq_views",
            "customers",
            "chat_conversations",
            "chat_messages",
            "form_submissions",
        )
    }
    expected = dict(summary.rows)
    expected["calls"] += expected.pop("calls_redelivered")
    assert counts == {t: expected[t] for t in counts}
    truths = json.loads((landing / "planted_truths.json").read_text())
    quarantined = {
        (Path(f).name, line) for f, line in con.execute("select file_path, line from raw._quarantine").fetchall()
    }
    planted = {(Path(b["file"]).name, b["line"]) for b in truths["bad_rows"]}
    assert quarantined == planted
    assert sum(r.rows_rejected for r in reports.values()) == len(planted)
    con.close()


def test_a_column_added_by_a_later_version_reaches_an_existing_warehouse(warehouse: Path) -> None:
    """A warehouse created before raw.tickets had `history_exported` gets the column (NULL in its old rows) the
    next time the loader opens it, instead of failing the load or the staging model that reads it."""
    import duckdb

    from contact_warehouse.loading.ledger import ensure_raw_schema

    con = duckdb.connect(str(warehouse))
    ensure_raw_schema(con)
    con.execute("insert into raw.tickets (ticket_id, created_at, status) values ('T1', '2026-10-05 10:00', 'new')")
    con.execute("alter table raw.tickets drop column history_exported")
    ensure_raw_schema(con)
    rows = con.execute("select ticket_id, history_exported from raw.tickets").fetchall()
    con.close()
    assert rows == [("T1", None)]
