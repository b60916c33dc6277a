"""A landed file is read (hashed) once: the loader and the landing sensor remember its sha256 with its status, and
hash it again when it changed, even rewritten in place with its old size and modification time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from contact_warehouse.loading import file_hashes
from contact_warehouse.loading.file_hashes import FILE_HASHES
from contact_warehouse.loading.landing import sha256_of
from contact_warehouse.loading.loader import connect_for_loading, load_export
from contact_warehouse.loading.new_files import new_landing_files
from contact_warehouse.loading.sources import EXPORTS

FIXTURE_EXPORTS = Path(__file__).parent / "fixtures" / "exports"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    target = tmp_path / "landing"
    shutil.copytree(FIXTURE_EXPORTS, target)
    return target


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files hashed (read whole) through the memo."""
    seen: list[Path] = []

    def counting(path: Path) -> str:
        seen.append(path)
        return sha256_of(path)

    monkeypatch.setattr(file_hashes, "sha256_of", counting)
    return seen


def _load_all(db: Path, landing: Path) -> dict:
    con = connect_for_loading(db)
    try:
        return {e.name: load_export(con, e.name, landing) for e in EXPORTS}
    finally:
        con.close()


def test_a_night_reads_only_the_files_it_has_not_hashed(warehouse: Path, landing: Path, reads: list[Path]) -> None:
    landed = sorted(p for p in landing.rglob("*") if p.is_file() and p.suffix in (".csv", ".json", ".jsonl"))
    first = _load_all(warehouse, landing)
    assert sorted(set(reads)) == landed  # each once
    assert len(reads) == len(landed)
    con = connect_for_loading(warehouse)
    remembered = dict(con.execute(f"select file_path, file_sha256 from {FILE_HASHES}").fetchall())
    con.close()
    assert remembered == {str(p): sha256_of(p) for p in landed}

    reads.clear()
    second = _load_all(warehouse, landing)
    assert reads == []
    assert all(f.status == "skipped" for r in second.values() for f in r.files)
    # the same hashes as the first night's, which read the files (the ignored README is recorded once, first night)
    assert {f.path: f.sha256 for r in second.values() for f in r.files} == {
        f.path: f.sha256 for r in first.values() for f in r.files if f.status != "ignored"
    }

    # The sensor reads the hashes the loader remembered: an unchanged landing folder is not read.
    assert new_landing_files(landing, landing / "no_profiles", warehouse) == []
    assert reads == []


def test_a_file_rewritten_in_place_with_its_size_and_time_is_read_again(
    warehouse: Path, landing: Path, reads: list[Path]
) -> None:
    _load_all(warehouse, landing)
    calls = landing / "calls" / "calls_2026-10-05.csv"
    before = calls.stat()
    header, first, second, *rest = calls.read_text().splitlines()
    calls.write_text("\n".join([header, second, first, *rest]) + "\n")  # other bytes, the same size
    os.utime(calls, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old modification time
    assert calls.stat().st_size == before.st_size and calls.stat().st_mtime_ns == before.st_mtime_ns

    reads.clear()
    new = new_landing_files(landing, landing / "no_profiles", warehouse)
    assert [f.path for f in new] == [calls] and new[0].sha256 == sha256_of(calls)
    report = _load_all(warehouse, landing)["calls"]
    assert [f.status for f in report.files] == ["loaded"]
    assert report.files[0].sha256 == sha256_of(calls)
    assert calls in reads
