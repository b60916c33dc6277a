"""The landing folder's files that are not in the ledger yet: what the landing sensor starts a run for.

The ledger is read with a read-only connection while holding the warehouse lock shared; when a run holds it, or
the file cannot be read, ``WarehouseBusy`` says so and the caller looks again later. Only the files the loader has
not hashed in their current state are read (``FileHashes``): a tick does not read the whole history's exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from contact_warehouse.loading.common import LEDGER
from contact_warehouse.loading.file_hashes import FileHashes
from contact_warehouse.loading.landing import readable_files
from contact_warehouse.publication.locking import shared_warehouse_lock


class WarehouseBusy(Exception):
    """A run holds the warehouse: the ledger cannot be read now."""


@dataclass(frozen=True)
class LandingFile:
    path: Path
    exports: tuple[str, ...]  # the exports its rows load into (several for a mapping profile)
    sha256: str


def landing_files(landing: Path, profiles: Path, hashes: FileHashes | None = None) -> Iterator[LandingFile]:
    """Every file the loaders would read (with an invalid mapping profile, the canonical export folders' only). A
    file the loader has hashed and that is unchanged since is not read again (``hashes``, loading/file_hashes.py)."""
    hashes = hashes or FileHashes()
    for path, exports in readable_files(landing, profiles):
        yield LandingFile(path, exports, hashes.sha256(path))


def ledger_entries(database: Path) -> tuple[set[tuple[str, str]], FileHashes]:
    """(export, sha256) of every file in the ledger, and the hashes the loader remembered; empty when the warehouse
    or its ledger does not exist."""
    if not database.exists():
        return set(), FileHashes()
    with shared_warehouse_lock(database) as free:
        if not free:
            raise WarehouseBusy(f"a run holds {database}")
        try:
            with duckdb.connect(str(database), read_only=True) as con:
                entries = set(con.execute(f"select export, file_sha256 from {LEDGER}").fetchall())
                return entries, FileHashes.read(con)
        except duckdb.CatalogException:
            return set(), FileHashes()  # no ledger yet
        except duckdb.Error as error:  # locked by a writer outside Dagster (dbt run by hand), or unreadable
            raise WarehouseBusy(f"{database} cannot be read now: {error}") from error


def new_landing_files(landing: Path, profiles: Path, database: Path) -> list[LandingFile]:
    """Files of the landing folder not yet in the ledger (loaded or refused), one per content hash. Only the files
    the loader has not hashed in their current state are read: every tick read the whole history's exports."""
    known, hashes = ledger_entries(database)
    new: dict[str, LandingFile] = {}
    for file in landing_files(landing, profiles, hashes):
        if any((export, file.sha256) not in known for export in file.exports):
            new.setdefault(file.sha256, file)
    return list(new.values())
