"""Publication of what changed: a fingerprint per marts table says whether the last publication already holds it.

A nightly run rebuilds every mart, but many come out identical (a day's new events leave most dimension tables,
the knowledge-base marts and every rate of closed periods as they were). Copying a table means reading, compressing
and writing it again; fingerprinting it means reading it once. So a publication starts from a byte copy of the
serving file it replaces (the operating system's file copy, no DuckDB work), replaces only the tables whose
fingerprint differs, drops those the build no longer has, and is swapped in by the same atomic rename as a full
one (publish.py): readers still see one whole publication or the other.

A fingerprint covers the table's columns (names, types, comments), its comment, its row count and the sum of its
rows' hashes (order does not matter: marts are sets). The fingerprints live in ``meta.table_fingerprints`` of the
serving file; a serving file without them (a first publication, or one written before this) is copied in full.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from contact_warehouse.engine.sql import sql_identifier, sql_literal

FINGERPRINT_TABLE = "meta.table_fingerprints"
FINGERPRINT_TABLE_COMMENT = (
    "One row per published marts table: its fingerprint in the build when it was published, so that the next "
    "publication copies only the tables that changed (contact_warehouse/publication/changes.py)."
)
FINGERPRINT_COMMENTS = {
    "table_name": "A marts table of this serving file.",
    "fingerprint": "SHA-256 of the build table's columns, comments, row count and sum of row hashes.",
    "row_count": "Rows of the table.",
    "grain_views": "The per-grain views made from the table (publication/grains.py).",
}


@dataclass(frozen=True)
class Published:
    """What the serving file holds of one marts table."""

    fingerprint: str
    row_count: int
    grain_views: tuple[str, ...]


def fingerprint(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> tuple[str, int]:
    """(fingerprint, row count) of ``catalog.schema.table`` (a table or a view) as it reads now."""
    columns = con.execute(
        "select column_name, data_type, coalesce(comment, '') from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [catalog, schema, table],
    ).fetchall()
    comments = con.execute(
        "select coalesce(comment, '') from duckdb_tables() where database_name = ? and schema_name = ? "
        "and table_name = ? union all select coalesce(comment, '') from duckdb_views() where database_name = ? "
        "and schema_name = ? and view_name = ?",
        [catalog, schema, table] * 2,
    ).fetchall()
    source = f"{sql_identifier(catalog)}.{sql_identifier(schema)}.{sql_identifier(table)}"
    # The row as one struct value (the table's alias); summed as hugeint so that no sum overflows.
    rows, hash_sum = con.execute(f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {source} t").fetchone()
    described = json.dumps([columns, comments, rows, str(hash_sum)], default=str)
    return hashlib.sha256(described.encode()).hexdigest(), rows


def read_fingerprints(serving_db: Path) -> dict[str, Published] | None:
    """The fingerprints of a serving file; None when it has none (no file, or one published without them)."""
    if not serving_db.exists():
        return None
    try:
        with duckdb.connect(str(serving_db), read_only=True) as con:
            rows = con.execute(
                f"select table_name, fingerprint, row_count, grain_views from {FINGERPRINT_TABLE}"
            ).fetchall()
    except duckdb.Error:
        return None  # not a serving file this code wrote: publish everything
    return {name: Published(fp, count, tuple(views)) for name, fp, count, views in rows}


def write_fingerprints(con: duckdb.DuckDBPyConnection, published: dict[str, Published]) -> None:
    """``meta.table_fingerprints`` of the file being written (the meta schema exists)."""
    con.execute(
        f"""create table {FINGERPRINT_TABLE} (
            table_name varchar not null primary key,
            fingerprint varchar not null,
            row_count bigint not null,
            grain_views varchar[] not null)"""
    )
    con.execute(f"comment on table {FINGERPRINT_TABLE} is {sql_literal(FINGERPRINT_TABLE_COMMENT)}")
    for column, comment in FINGERPRINT_COMMENTS.items():
        con.execute(f"comment on column {FINGERPRINT_TABLE}.{column} is {sql_literal(comment)}")
    if published:
        con.executemany(
            f"insert into {FINGERPRINT_TABLE} values (?, ?, ?, ?)",
            [[name, p.fingerprint, p.row_count, list(p.grain_views)] for name, p in sorted(published.items())],
        )


def drop_published(con: duckdb.DuckDBPyConnection, schema: str, table: str, published: Published) -> None:
    """Remove a table of the previous publication and its grain views from the file being written."""
    for view in published.grain_views:
        con.execute(f"drop view if exists {sql_identifier(schema)}.{sql_identifier(view)}")
    con.execute(f"drop table if exists {sql_identifier(schema)}.{sql_identifier(table)}")


__all__ = [
    "FINGERPRINT_TABLE",
    "Published",
    "drop_published",
    "fingerprint",
    "read_fingerprints",
    "write_fingerprints",
]
