"""Value checks, in DuckDB and vectorised: each text value is parsed once into its column's type (whole
integers only), and every row gets its first failing field and the reason: a missing required value, a value
that does not parse, a negative duration, a timestamp in the future, a table rule (ranges, orderings)."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from contact_warehouse.engine.sql import sql_literal

from .common import META_COLUMNS, RAW_SCHEMA, SQL_TYPES, future_tolerance_minutes
from .sources import Column, RawTable

PARSE_FAILURE = {
    "timestamp": "unparseable timestamp",
    "integer": "not an integer",
    "double": "not a number",
    "boolean": "not a boolean",
}


def _parse_expr(column: Column, text_expr: str) -> str:
    """SQL that turns the text value into the column's type, NULL when it does not parse."""
    value = f"nullif(trim({text_expr}), '')"
    if column.type == "timestamp":
        return f"timezone('UTC', try_cast({value} as timestamptz))"
    if column.type == "text":
        return f"nullif({text_expr}, '')"
    if column.type == "integer":
        # Only whole numbers in decimal digits (12, -3, 12.0): a cast would round 1.234 and 12.7 and read
        # 1e3 and 0x1F as numbers, changing the value without a word.
        return (
            f"case when regexp_full_match({value}, '[+-]?[0-9]+([.]0*)?') "
            f"then try_cast(regexp_replace({value}, '[.]0*$', '') as bigint) end"
        )
    return f"try_cast({value} as {SQL_TYPES[column.type]})"


TYPED = "__typed__"


def _typed(name: str, alias: str = "t") -> str:
    """The parsed value of a column in a relation made by ``_stage_typed``."""
    return f'{alias}."{TYPED}{name}"'


def _stage_typed(con: duckdb.DuckDBPyConnection, table: RawTable, text_relation: str) -> str:
    """Parse every column once (checks and insert read the result): ``<text_relation>_typed``."""
    typed = ", ".join(f'{_parse_expr(c, f"t.{chr(34)}{c.name}{chr(34)}")} as "{TYPED}{c.name}"' for c in table.columns)
    con.execute(f"create or replace temp table {text_relation}_typed as select t.*, {typed} from {text_relation} t")
    return f"{text_relation}_typed"


def _error_cases(table: RawTable, alias: str, prefix: str = "", loaded_at: str = "") -> tuple[str, str]:
    """Two CASE expressions over a relation made by ``_stage_typed``: the first failing field and why it
    failed, in column order, then the table's rules. ``loaded_at`` (ISO text, UTC) enables the check for
    timestamps in the future."""
    field_cases, reason_cases = [], []

    def case(field_name: str, condition: str, reason: str) -> None:
        field_cases.append(f"when {condition} then '{prefix}{field_name}'")
        reason_cases.append(f"when {condition} then {reason}")

    tolerance = future_tolerance_minutes()
    future_limit = ""
    if loaded_at:
        limit_at = datetime.fromisoformat(loaded_at) + timedelta(minutes=tolerance)
        future_limit = f"timestamp '{limit_at.isoformat(sep=' ')}'"
    for column in table.columns:
        text = f'{alias}."{column.name}"'
        quoted_value = f"chr(39) || {text} || chr(39)"
        present = f"nullif(trim({text}), '') is not null"
        parsed = _typed(column.name, alias)
        if column.required:
            case(column.name, f"not ({present})", "'missing required value'")
        if column.type != "text":
            case(column.name, f"({present} and {parsed} is null)", f"'{PARSE_FAILURE[column.type]} ' || {quoted_value}")
        if column.nonnegative:
            case(column.name, f"coalesce({parsed} < 0, false)", f"'negative duration ' || {quoted_value}")
        if column.type == "timestamp" and future_limit:
            case(
                column.name,
                f"coalesce({parsed} > {future_limit}, false)",
                f"'timestamp in the future (after the load time {loaded_at[:19]} UTC + {tolerance:g} min) ' || "
                f"{quoted_value}",
            )
    parsed_of = {c.name: _typed(c.name, alias) for c in table.columns}
    for rule in table.rules:
        violated = rule.violated.format(**{name: f"({expr})" for name, expr in parsed_of.items()})
        case(
            rule.field,
            f"coalesce({violated}, false)",
            f'{sql_literal(rule.reason + " ")} || chr(39) || {alias}."{rule.field}" || chr(39)',
        )
    if not field_cases:
        return "null", "null"
    return f"case {' '.join(field_cases)} end", f"case {' '.join(reason_cases)} end"


def _insert_rows(
    con: duckdb.DuckDBPyConnection, table: RawTable, text_relation: str, where: str, meta: str, target: str = ""
) -> int:
    """Insert the typed rows of ``text_relation`` where ``where`` holds into ``target`` (default the raw table)."""
    typed = ", ".join(_typed(c.name) for c in table.columns)
    # Columns named: the table also has the enriched columns (contact_warehouse/enrichment), filled after.
    names = ", ".join([f'"{c.name}"' for c in table.columns] + [name for name, _ in META_COLUMNS])
    target = target or f"{RAW_SCHEMA}.{table.name}"
    # An INSERT's result is its row count: no second pass over the relation to count them.
    return con.execute(
        f"insert into {target} ({names}) select {typed}, {meta} from {text_relation} t where {where}"
    ).fetchone()[0]


def replace_forced_errors(con: duckdb.DuckDBPyConnection, forced: dict[int, tuple[str, str]], errors_sql: str) -> None:
    """Stage ``forced`` (source line -> (field, reason)) as the temp table ``_forced`` and replace the staged
    failures (``_errs``) of those lines by the rows of ``errors_sql`` (line, field, reason, raw record; it joins
    ``_forced``): a mapping profile's source row rejected in one target is rejected in all, with one reason."""
    con.execute("create or replace temp table _forced (line bigint, field varchar, reason varchar)")
    con.executemany("insert into _forced values (?, ?, ?)", [(line, f, r) for line, (f, r) in forced.items()])
    con.execute("delete from _errs where _line in (select line from _forced)")
    con.execute(f"insert into _errs {errors_sql}")
