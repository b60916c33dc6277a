"""Probes: the ledger reconciles with the vendor's file (tester's findings C). Keys repeated inside one
delivery are counted and listed, and fail the build above a share; rows a mapping profile filters out are
counted; an existing warehouse's ledger gains the new columns."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import duckdb

from contact_warehouse.loading.loader import connect_for_loading, ensure_raw_schema
from contact_warehouse.settings import DBT_PROJECT_DIR, MAPPING_PROFILES_DIR, dbt_executable

CALLS_HEADER = (
    "call_id,parent_call_id,direction,from_number,to_number,customer_ref,queue,agent_id,started_at,queued_at,"
    "answered_at,ended_at,hold_seconds,silence_seconds,wrap_seconds,status,disposition,resolved"
)
FOREIGN = Path(__file__).parent.parent / "fixtures" / "foreign"
LOADING_SELECTION = [
    "stg_phone_system__calls",
    "stg_loading__load_ledger+",
    "stg_loading__quarantine+",
    "stg_loading__duplicate_keys+",
]


def call_row(call_id: str, note: str) -> str:
    return f"{call_id},,inbound,4155550123,,C1,billing,A1,2026-10-05T09:14:03Z,,,,10,5,30,completed,{note},true"


def write_calls(landing: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    path = landing / "calls" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([CALLS_HEADER, *(call_row(*row) for row in rows)]) + "\n")
    return path


def repeated_keys(path: Path) -> Counter:
    """call_id occurrences of a calls file by Python's csv reader (the independent count)."""
    with path.open(newline="") as handle:
        return Counter(row["call_id"] for row in csv.DictReader(handle))


def dbt_build(db: Path, *extra: str) -> subprocess.CompletedProcess:
    selection = ["--select", *LOADING_SELECTION]
    return subprocess.run(
        [dbt_executable(), "build", *selection, *extra, "--project-dir", str(DBT_PROJECT_DIR)]
        + ["--profiles-dir", str(DBT_PROJECT_DIR)],
        env={**os.environ, "CONTACT_WAREHOUSE_DB": str(db)},
        capture_output=True,
        text=True,
    )


def test_keys_repeated_inside_one_delivery_are_counted_listed_and_fail_the_build(
    landing, load_all, query, warehouse
) -> None:
    # A bank's call log whose call_id is not unique: c1 three times, c2 twice. A later file re-delivering
    # c3 is a correction (intended), not a duplicate.
    first = write_calls(
        landing, "calls_2026-10-05.csv", [("c1", "a"), ("c2", "a"), ("c1", "b"), ("c3", "a"), ("c1", "c"), ("c2", "b")]
    )
    second = write_calls(landing, "calls_2026-10-06.csv", [("c3", "b"), ("c4", "a")])

    load_all(landing)

    counts = {p: repeated_keys(p) for p in (first, second)}
    for path, keys in counts.items():
        [(read, loaded, duplicate)] = query(
            "select rows_read, rows_loaded, rows_duplicate from raw._load_ledger where file_path = ?", [str(path)]
        )
        assert (read, loaded, duplicate) == (sum(keys.values()), sum(keys.values()), sum(n - 1 for n in keys.values()))
    assert query("select key_value, occurrences, first_line, kept_line from raw._duplicate_keys order by 1") == [
        ("c1", 3, 2, 6),
        ("c2", 2, 3, 7),
    ]

    # 3 of 8 loaded call rows repeat a key of their file: far above the default 1 %, the build fails and says
    # which export; the duplicates are listed for analysts, and staging keeps the same row as before (the
    # last line of the file: disposition 'c' for c1), and the re-delivery's c3.
    failed = dbt_build(warehouse)
    assert failed.returncode != 0
    assert "assert_duplicate_key_share" in failed.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        listed = con.execute(
            "select export, key_value, occurrences from staging.stg_loading__duplicate_keys order by 2"
        )
        assert listed.fetchall() == [("calls", "c1", 3), ("calls", "c2", 2)]
        kept = con.execute("select call_id, disposition from staging.stg_phone_system__calls order by 1").fetchall()
    assert kept == [("c1", "c"), ("c2", "b"), ("c3", "b"), ("c4", "a")]

    passed = dbt_build(warehouse, "--vars", "{max_duplicate_key_share: 0.5}")
    assert passed.returncode == 0, passed.stdout[-3000:]
    assert "assert_ledger_reconciles" in passed.stdout


def test_rows_a_profile_filters_out_are_counted_so_the_ledger_matches_the_vendor_file(landing, load_all, query) -> None:
    src = FOREIGN / "amazon_connect_ctr" / "ctr_sample.csv"
    (landing / "amazon_connect_ctr").mkdir()
    copy = landing / "amazon_connect_ctr" / src.name
    shutil.copy(src, copy)

    load_all(landing, MAPPING_PROFILES_DIR)

    with copy.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # The profile's own filter, written again here: calls are voice contacts other than supervisor monitoring.
    filtered = sum(1 for r in rows if r["Channel"] != "VOICE" or r["InitiationMethod"] == "MONITOR")
    [(read, loaded, rejected, dropped)] = query(
        "select rows_read, rows_loaded, rows_rejected, rows_filtered from raw._load_ledger where file_path = ?",
        [str(copy)],
    )
    assert (read, dropped) == (len(rows), filtered)
    assert read == loaded + rejected + dropped
    assert loaded == query("select count(*) from raw.calls")[0][0]


def test_an_existing_ledger_gains_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw")
        con.execute(
            """create table raw._load_ledger (load_id varchar, load_seq bigint, export varchar, file_path varchar,
               file_sha256 varchar, file_bytes bigint, rows_read bigint, rows_loaded bigint, rows_rejected bigint,
               status varchar, message varchar, loaded_at timestamp)"""
        )
        con.execute(
            "insert into raw._load_ledger values ('l1', 1, 'calls', 'x.csv', 'ab', 1, 3, 2, 1, 'loaded', '', now())"
        )
    con = connect_for_loading(db)
    try:
        ensure_raw_schema(con)
        ensure_raw_schema(con)  # idempotent
        row = con.execute("select rows_read, rows_filtered, rows_duplicate, reason from raw._load_ledger").fetchall()
    finally:
        con.close()
    assert row == [(3, 0, None, None)]
