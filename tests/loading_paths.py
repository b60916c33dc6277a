"""What the fast and the record-by-record loading paths are compared on (tests/test_loading_fast*.py): the same
landing loaded once by each path, and everything a load writes read back without what differs between two runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from contact_warehouse.loading.loader import connect_for_loading, load_export
from contact_warehouse.loading.sources import Export

Query = Callable[[str], list[tuple]]


def load(warehouse: Path, landing: Path, exports: Iterable[Export]) -> Query:
    """Loads ``exports`` from ``landing`` into a new ``warehouse``; returns a function that queries it."""
    warehouse.parent.mkdir(parents=True)
    con = connect_for_loading(warehouse)
    try:
        for export in exports:
            load_export(con, export.name, landing)
    finally:
        con.close()

    def query(sql: str) -> list[tuple]:
        con = connect_for_loading(warehouse)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    return query


def contents(query: Query, tables: Iterable[str]) -> dict[str, list[tuple]]:
    """Everything a load writes (the raw ``tables``, quarantine, repeated keys, ledger), without what differs between
    two runs (load ids and times)."""
    out = {table: query(f"select * exclude (_load_id, _loaded_at) from raw.{table} order by all") for table in tables}
    out["quarantine"] = query(
        # The reason of a future timestamp names the load time: the same in both runs once masked.
        "select * exclude (load_id, quarantined_at) replace (regexp_replace(reason, 'load time [0-9: -]+', 'T') as "
        "reason) from raw._quarantine order by file_path, line, field"
    )
    out["duplicates"] = query("select * exclude (load_id, loaded_at) from raw._duplicate_keys order by all")
    out["ledger"] = query(
        "select export, file_path, rows_read, rows_loaded, rows_rejected, rows_duplicate, status, message "
        "from raw._load_ledger order by file_path"
    )
    return out
