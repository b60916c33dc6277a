"""Loading fixtures for the reliability probes: a landing folder, and every export loaded from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from contact_warehouse.loading.loader import LoadReport, connect_for_loading, load_export
from contact_warehouse.loading.sources import EXPORTS


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def load_all(warehouse: Path) -> Callable[..., dict[str, LoadReport]]:
    """Load every export of a landing folder into the test's warehouse, as the nightly raw assets do."""

    def load(landing: Path, profiles_dir: Path | None = None) -> dict[str, LoadReport]:
        con = connect_for_loading(warehouse)
        try:
            return {e.name: load_export(con, e.name, landing, profiles_dir) for e in EXPORTS}
        finally:
            con.close()

    return load


@pytest.fixture
def query(warehouse: Path) -> Callable[..., list[tuple]]:
    """Run one query on the test's warehouse (read after the loads, on a connection of its own)."""

    def run(sql: str, params: list | None = None) -> list[tuple]:
        con = connect_for_loading(warehouse)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return run
