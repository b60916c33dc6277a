"""The CSV fast path (contact_warehouse/loading/csv_fast.py) loads exactly what the record-by-record path loads:
same rows, lines, enriched columns, quarantine and repeated keys; and a file it cannot vouch for goes the slow way."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from contact_warehouse.loading import csv_stage
from contact_warehouse.loading.csv_fast import plain_csv
from contact_warehouse.loading.scan import RefusedFileError
from contact_warehouse.loading.sources import EXPORTS, EXPORTS_BY_NAME
from tests.loading_paths import contents, load
from tests.small_landing import write_landing

CSV_TABLES = [e.main_table.name for e in EXPORTS if e.format == "csv"]

CALLS_HEADER = ",".join(EXPORTS_BY_NAME["calls"].main_table.column_names)
# Rows the value checks quarantine (unparseable and future timestamps, a negative duration, a missing key), a
# repeated key, blanks and spaces, non-ASCII text and odd phone formats: everything but CSV structure varies.
BAD_CALLS = [
    "CA10,,inbound,(415) 555-0101,+18005550100,C1,billing,A1,yesterday,,,2026-10-05T09:08:00Z,30,5,60,completed,,",
    "CA11,,inbound,415.555.0101,+18005550100,C2,billing,A1,2026-10-05T09:00:00Z,,,2026-10-05T09:08:00Z,-3,5,60,"
    "completed,,false",
    ",,inbound,+1 212 555 0199,+18005550100,,billing,,2026-10-05T09:00:00Z,,,2026-10-05T09:03:00Z,,,,abandoned,,",
    "CA12,,inbound,  ,+18005550100,Zoë,  ,A1,2026-10-05T09:00:00Z,,,2099-10-05T09:03:00Z,1.0,0,0,completed,x,true",
    "CA12,,inbound,+44 20 7946 0958,+18005550100,C3,sales,A2,2026-10-05T11:00:00Z,,,2026-10-05T11:03:00Z,2,0,0,"
    "completed,,maybe",
    "CA13,,outbound,+18005550100,415.555.0101,C1,,A1,2026-10-06T15:00:00Z,,,2026-10-06T15:05:00Z,0,2,20,completed,,true",
    "CA13,,outbound,+18005550100,415.555.0101,C1,,A1,2026-10-06T15:00:00Z,,,2026-10-06T15:06:00Z,0,2,20,completed,,true",
]


def _landing(folder: Path) -> Path:
    write_landing(folder)
    calls = folder / "calls" / "calls_2026-10-05.csv"
    calls.write_text(calls.read_text() + "\n".join(BAD_CALLS) + "\n")
    # A second day compressed, and ending without a newline.
    day2 = "\n".join([CALLS_HEADER, BAD_CALLS[0].replace("CA10", "CA20"), BAD_CALLS[4].replace("CA12", "CA21")])
    (folder / "calls" / "calls_2026-10-06.csv.gz").write_bytes(gzip.compress(day2.encode()))
    return folder


def test_the_fast_path_loads_what_the_record_by_record_path_loads(tmp_path: Path, monkeypatch) -> None:
    landing = _landing(tmp_path / "landing")
    monkeypatch.setenv("CONTACT_WAREHOUSE_LAKE", "off")
    monkeypatch.setenv("CONTACT_WAREHOUSE_SETTLE_SECONDS", "0")
    taken: list[str] = []

    def counting(path, origin, table):
        result = plain_csv(path, origin, table)
        if result is not None:
            taken.append(Path(origin).name)
        return result

    monkeypatch.setattr(csv_stage, "plain_csv", counting)
    fast = contents(load(tmp_path / "fast" / "warehouse.duckdb", landing, EXPORTS), CSV_TABLES)
    # Every canonical CSV of the landing qualifies (the SMS and survey files have no quotes either).
    assert sorted(taken) == sorted(p.name for p in landing.glob("*/*.csv*"))
    monkeypatch.setattr(csv_stage, "plain_csv", lambda path, origin, table: None)
    slow = contents(load(tmp_path / "slow" / "warehouse.duckdb", landing, EXPORTS), CSV_TABLES)
    assert len(fast["quarantine"]) >= 5 and fast["duplicates"]  # the comparison covers rejections and repeats
    for name in slow:
        assert fast[name] == slow[name], name


@pytest.mark.parametrize(
    "body",
    [
        'CA1,,inbound,"(415) 555-0101",+18005550100,C1,,,2026-10-05T09:00:00Z,,,,,,,completed,,\n',  # a quote
        "CA1,,inbound,+14155550101,+18005550100,C1,,,2026-10-05T09:00:00Z,,,,,,,completed,,\r\n",  # CRLF
        "CA1,,inbound,+14155550101,+18005550100,C1,,,2026-10-05T09:00:00Z,,,,,,,completed,,\n\n",  # a blank line
        "CA1,,inbound,+14155550101,+18005550100,C1,,,2026-10-05T09:00:00Z,,,,,,,completed\n",  # too few fields
        "CA1,,inbound,+14155550101,+18005550100,C1,,,2026-10-05T09:00:00Z,,,,,,,completed,,\x00\n",  # NUL
        "CA1,,inbound,+14155550101,+18005550100,C1,,,2026-10-05T09:00:00Z,,,,,,,compl\xe9ted,,\n",  # Latin-1 byte
    ],
)
def test_a_file_the_fast_path_cannot_vouch_for_is_read_record_by_record(tmp_path: Path, body: str) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes((CALLS_HEADER + "\n" + body).encode("latin-1"))
    assert plain_csv(path, str(path), EXPORTS_BY_NAME["calls"].main_table) is None


def test_an_over_long_line_and_a_bom_go_the_slow_way_and_a_plain_file_does_not(tmp_path: Path, monkeypatch) -> None:
    table = EXPORTS_BY_NAME["calls"].main_table
    row = "CA1,,inbound,+14155550101,+18005550100,C1,,,2026-10-05T09:00:00Z,,,,,,,completed,,\n"
    path = tmp_path / "calls.csv"
    path.write_text(CALLS_HEADER + "\n" + row)
    assert plain_csv(path, str(path), table) == (path.read_bytes(), 1)
    monkeypatch.setenv("CONTACT_WAREHOUSE_MAX_RECORD_BYTES", str(len(row) - 5))
    assert plain_csv(path, str(path), table) is None
    monkeypatch.delenv("CONTACT_WAREHOUSE_MAX_RECORD_BYTES")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert plain_csv(path, str(path), table) is None


def test_a_header_that_does_not_match_is_refused_with_the_slow_paths_message(tmp_path: Path) -> None:
    table = EXPORTS_BY_NAME["calls"].main_table
    path = tmp_path / "calls.csv"
    path.write_text(CALLS_HEADER.replace("queue", "queue_name") + "\nCA1" + "," * 17 + "\n")
    with pytest.raises(RefusedFileError) as fast:
        plain_csv(path, "the-file.csv", table)
    from contact_warehouse.loading.scan import _scan_csv

    with pytest.raises(RefusedFileError) as slow:
        _scan_csv(path, "the-file.csv", table, tmp_path / "out.csv")
    assert str(fast.value) == str(slow.value)
    assert "the-file.csv: header (line 1)" in str(fast.value) and "queue_name" in str(fast.value)
