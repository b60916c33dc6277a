"""One view per grain in the serving file: a reader never has to remember the `period_grain` filter.

A rolled-up mart keeps its day, week and month rows (and 'all' where it has one) in one table, so that the report
and the checks read every grain with one query. Summing such a table without `where period_grain = ...` counts
everything three times. The publication therefore adds, beside each table that has a `period_grain` column, one
view per grain it holds, named `<table>_<grain>` (`mart_resolution_week`), without the grain column, with the
table's comments; the mixed table's own comment says it mixes grains and names the views (DECISIONS.md, "One view
per grain in the serving file").
"""

from __future__ import annotations

import duckdb

from contact_warehouse.engine.sql import sql_identifier, sql_literal

GRAIN_COLUMN = "period_grain"
GRAIN_ORDER = ("day", "week", "month", "all")
GRAIN_WORDS = {
    "day": "One row per day",
    "week": "One row per week (from Monday)",
    "month": "One row per calendar month",
    "all": "One row for the whole data range",
}


def grain_view_name(table: str, grain: str) -> str:
    return f"{table}_{grain}"


def _grains(con: duckdb.DuckDBPyConnection, target: str) -> list[str]:
    found = {g for (g,) in con.execute(f"select distinct {GRAIN_COLUMN} from {target}").fetchall() if g}
    return [g for g in GRAIN_ORDER if g in found] + sorted(found - set(GRAIN_ORDER))


def add_grain_views(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """The views `<table>_<grain>` of one published table, commented; [] for a table without grains."""
    columns = con.execute(
        "select column_name, comment from duckdb_columns() where schema_name = ? and table_name = ? "
        "and database_name = current_database() order by column_index",
        [schema, table],
    ).fetchall()
    if GRAIN_COLUMN not in {name for name, _ in columns}:
        return []
    target = f"{sql_identifier(schema)}.{sql_identifier(table)}"
    (comment,) = con.execute(
        "select coalesce(comment, '') from duckdb_tables() where schema_name = ? and table_name = ? "
        "and database_name = current_database()",
        [schema, table],
    ).fetchone()
    grains = _grains(con, target)
    views = []
    for grain in grains:
        view = grain_view_name(table, grain)
        name = f"{sql_identifier(schema)}.{sql_identifier(view)}"
        con.execute(
            f"create view {name} as select * exclude ({GRAIN_COLUMN}) from {target} "
            f"where {GRAIN_COLUMN} = {sql_literal(grain)}"
        )
        what = f"{GRAIN_WORDS.get(grain, grain)} of {table} (its rows where period_grain = '{grain}'). {comment}"
        con.execute(f"comment on view {name} is {sql_literal(what.strip())}")
        for column, column_comment in columns:
            if column != GRAIN_COLUMN and column_comment:
                con.execute(f"comment on column {name}.{sql_identifier(column)} is {sql_literal(column_comment)}")
        views.append(view)
    if views:
        named = ", ".join(views)
        warning = (
            f"MIXED GRAINS: {', '.join(grains)} rows in one table; sum it only within one period_grain, or read "
            f"one view per grain ({named})."
        )
        con.execute(f"comment on table {target} is {sql_literal(f'{warning} {comment}'.strip())}")
    return views
