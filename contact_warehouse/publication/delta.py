"""A night's publication from the last one: only the rows that changed are written.

Copying every marts table again costs what the history costs (reading, compressing and writing every row of
``fct_events`` each night), though a night adds a day and recomputes a few customers. Most tables change a little
(DECISIONS.md, "Publication keeps copying every marts table": 44 of 47 differ after a day), so skipping unchanged
tables saves nothing; skipping unchanged rows does. The new file therefore starts as a byte copy of the serving
file (the operating system's copy, no DuckDB work), and in each large table of it the rows the build no longer has
are deleted and the build's rows it lacks are inserted. Rows are compared by the hash of the whole row (every
column, NULL apart from every value), not by a key or a fingerprint a model keeps; a changed row is missed only if
its 64-bit hash equals a published row's (DECISIONS.md puts the odds). The swap stays the atomic rename of
publish.py, so readers still see one whole publication or the other.

A table is copied whole instead when it is small (comparing costs more than copying), new, has other columns or
types than the published one, or when most of its rows changed. A serving file that is not a publication this code
can read, has a write-ahead log beside it, or is mostly free space is not started from (``reusable_serving_file``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from contact_warehouse.engine.sql import sql_identifier, sql_literal

# Below this many rows in the build, a table is copied whole: the comparison's fixed statements cost more than the
# copy (measured on a real night's marts, DECISIONS.md "Publication writes only the rows that changed").
DELTA_MIN_ROWS = 10_000
# A table whose changed rows exceed this share of it is copied whole: deleting and re-inserting most of a table
# writes as much as the copy and leaves the deleted rows' space behind.
DELTA_MAX_CHANGED_SHARE = 0.5
# A serving file whose free blocks exceed its used ones is not started from: the full copy writes a compact file.
MAX_FREE_SHARE = 0.5
# The alias under which a table's row is hashed as one value; a table with a column of this name is copied whole.
ROW_ALIAS = "publication_row"
# Columns of the build's marts that are not published: the incremental models' fingerprint of a customer's inputs
# (pipeline bookkeeping) changes on every row of every customer a night rebuilds, so publishing it made the delta
# delete and insert those customers' whole history (12 % of fct_events a night at 120 days, DECISIONS.md, seventh
# session) where their rows' published values rarely change.
UNPUBLISHED_COLUMNS = ("_input_fingerprint",)


def published_columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[str]:
    """The columns of ``catalog.schema.table`` that a publication holds, in order."""
    return [name for name, _ in _columns(con, catalog, schema, table) if name not in UNPUBLISHED_COLUMNS]


def published_select(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str, alias: str = "") -> str:
    """The select list of a published table's columns (``alias.*`` with the unpublished ones excluded)."""
    names = {name for name, _ in _columns(con, catalog, schema, table)}
    excluded = [sql_identifier(name) for name in UNPUBLISHED_COLUMNS if name in names]
    star = f"{alias}.*" if alias else "*"
    return f"{star} exclude ({', '.join(excluded)})" if excluded else star


def reusable_serving_file(serving_db: Path, meta_table: str) -> bool:
    """True when ``serving_db`` can be the start of the next publication: a DuckDB file this version opens, with
    the publication's metadata, no write-ahead log (its last writer ended cleanly) and at most half free space."""
    if not serving_db.is_file() or serving_db.with_name(serving_db.name + ".wal").exists():
        return False
    try:
        with duckdb.connect(str(serving_db), read_only=True) as con:
            con.execute(f"select count(*) from {meta_table}").fetchone()
            total, free = con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
    except duckdb.Error:
        return False
    return total > 0 and free <= MAX_FREE_SHARE * total


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = ? "
        "and table_name = ? order by column_index",
        [catalog, schema, table],
    ).fetchall()


def _build_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int | None:
    """The build table's row count as DuckDB keeps it (no scan); None for a view."""
    row = con.execute(
        "select estimated_size from duckdb_tables() where database_name = 'build' and schema_name = ? "
        "and table_name = ?",
        [schema, table],
    ).fetchone()
    return None if row is None else row[0]


def replace_changed_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Make ``schema.table`` (the previous publication's copy) equal to ``build.schema.table`` by deleting the
    rows the build lacks and inserting the build's rows it lacks. False when the table must be copied whole
    instead (see the module's docstring); the caller then drops it, whatever this left in it.

    Runs inside the publication's transaction: a failure rolls it back with the rest."""
    columns = [c for c in _columns(con, "build", schema, table) if c[0] not in UNPUBLISHED_COLUMNS]
    if not columns or columns != _columns(con, con.execute("select current_database()").fetchone()[0], schema, table):
        return False
    build_rows = _build_rows(con, schema, table)
    if build_rows is None or build_rows < DELTA_MIN_ROWS or ROW_ALIAS in {name for name, _ in columns}:
        return False
    target = f"{sql_identifier(schema)}.{sql_identifier(table)}"
    source = f"build.{sql_identifier(schema)}.{sql_identifier(table)}"
    # Rows are matched by their hash (every column, NULL hashed apart from every value): each table is read once
    # and the join compares one integer, where a join on every column costs as much as the copy it saves
    # (measured, DECISIONS.md). Row ids say which published rows to delete and which of the build's to insert.
    # The row is the table's alias as a value (a struct of every column); a column of the alias's name would be
    # hashed instead of the row, hence the check above.
    # Both sides' rows as a struct of the published columns, by name (the build's has columns that are not).
    row = "{" + ", ".join(f"{sql_literal(name)}: {ROW_ALIAS}.{sql_identifier(name)}" for name, _ in columns) + "}"
    for name, relation in (("old", target), ("new", source)):
        con.execute(
            f"create or replace temp table publication_{name} as "
            f"select rowid as row_id, hash({row}) as h from {relation} {ROW_ALIAS}"
        )
    # One full join finds the unmatched rows of both sides (two anti joins would build two hash tables).
    con.execute(
        "create or replace temp table publication_diff as select o.row_id as gone_id, n.row_id as added_id, "
        "coalesce(o.h, n.h) as h from publication_old o full join publication_new n using (h) "
        "where o.h is null or n.h is null"
    )
    count_and_sum = "count(*), coalesce(sum(h::hugeint), 0)"
    old = con.execute(f"select {count_and_sum} from publication_old").fetchone()
    new = con.execute(f"select {count_and_sum} from publication_new").fetchone()
    gone = con.execute(f"select {count_and_sum} from publication_diff where gone_id is not null").fetchone()
    added = con.execute(f"select {count_and_sum} from publication_diff where added_id is not null").fetchone()
    pays = gone[0] <= DELTA_MAX_CHANGED_SHARE * max(old[0], 1)
    if pays:
        con.execute(f"delete from {target} where rowid in (select gone_id from publication_diff)")
        con.execute(
            f"insert into {target} select {published_select(con, 'build', schema, table, 'b')} from {source} b "
            "semi join publication_diff d on b.rowid = d.added_id"
        )
    for name in ("old", "new", "diff"):
        con.execute(f"drop table publication_{name}")
    # The join matches sets: a row the build holds twice, published once (or the reverse), would come out wrong.
    # Marts have keys, so this does not happen, and the table's count and hash sum (old - gone + added) equal to
    # the build's say so; else it is copied whole.
    return pays and tuple(old[k] - gone[k] + added[k] for k in (0, 1)) == tuple(new)
