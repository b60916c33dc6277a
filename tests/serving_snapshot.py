"""What a reader sees in a serving file, for comparing two publications (shared by the publication tests)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def serving_snapshot(path: Path) -> dict:
    """Everything a reader sees in a serving file except the publication's time: tables, views, columns, comments,
    rows (of the tables and views outside meta) and meta.publication's run, status, tables and checks."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select schema_name, table_name, comment from duckdb_tables() order by all").fetchall()
        views = con.execute(
            "select schema_name, view_name, sql, comment from duckdb_views() where not internal order by all"
        ).fetchall()
        columns = con.execute(
            "select schema_name, table_name, column_index, column_name, data_type, comment from duckdb_columns() "
            "order by all"
        ).fetchall()
        rows = {
            (schema, name): con.execute(f'select * from {schema}."{name}" order by all').fetchall()
            for schema, name, *_ in [*tables, *views]
            if schema != "meta"
        }
        meta = con.execute("select run_id, status, tables, checks from meta.publication").fetchall()
    return {"tables": tables, "views": views, "columns": columns, "rows": rows, "meta": meta}
