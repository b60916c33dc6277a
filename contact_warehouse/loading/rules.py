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
    """The parsed value of a column in a relation made by ``_stage_checked``."""
    return f'{alias}."{TYPED}{name}"'


def _stage_checked(
    con: duckdb.DuckDBPyConnection, table: RawTable, text_sql: str, relation: str, prefix: str = "", loaded_at: str = ""
) -> str:
    """The text rows of ``text_sql`` (``_line`` and the table's columns as text) with every column parsed once and
    each row's first failing field (``_field``, NULL when the row passes; ``_failing_field``), in one pass as the temp
    table ``relation``: the checks and the insert read it. One statement instead of three (the text, its parsed
    values, the checks over them): each was a pass over every row of the file (issue 22)."""
    typed = ", ".join(f'{_parse_expr(c, f"s.{chr(34)}{c.name}{chr(34)}")} as "{TYPED}{c.name}"' for c in table.columns)
    err_field = _failing_field(table, "t", prefix, loaded_at=loaded_at)
    con.execute(
        f"""create or replace temp table {relation} as
            select t.*, cast({err_field} as varchar) as _field from (select s.*, {typed} from ({text_sql}) s) t"""
    )
    return relation


def errors_sql(table: RawTable, relation: str, prefix: str = "", loaded_at: str = "", more: str = "") -> str:
    """``_line``, ``field`` and ``reason`` (and the columns ``more`` over alias ``t``) of the failing rows of a
    relation made by ``_stage_checked``: the reason's CASE only on those rows."""
    _, err_reason = _error_cases(table, "t", prefix, loaded_at=loaded_at)
    return (
        f"select t._line, t._field as field, {err_reason} as reason{more} from {relation} t where t._field is not null"
    )


def _checks(table: RawTable, alias: str, loaded_at: str = "") -> list[tuple[str, str, str, str]]:
    """The value checks over a relation made by ``_stage_checked``, in order (column order, then the table's
    rules): (field, condition, reason, screen). ``screen`` holds wherever ``condition`` does and is cheaper: a test
    of NULLs and comparisons of parsed values instead of trimming the text. ``loaded_at`` (ISO text, UTC) enables
    the check for timestamps in the future."""
    checks: list[tuple[str, str, str, str]] = []
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
            # A value that is not present parses to NULL (``_parse_expr`` parses the trimmed text or NULL); a text
            # keeps its spaces, but a text of spaces only (trim removes spaces) is empty or starts with one.
            screen = f"{parsed} is null"
            if column.type == "text":
                screen = f"({text} is null or {text} = '' or starts_with({text}, ' '))"
            checks.append((column.name, f"not ({present})", "'missing required value'", screen))
        if column.type != "text":
            checks.append((
                column.name,
                f"({present} and {parsed} is null)",
                f"'{PARSE_FAILURE[column.type]} ' || {quoted_value}",
                f"({parsed} is null and {text} is not null)",
            ))  # fmt: skip
        if column.nonnegative:
            negative = f"coalesce({parsed} < 0, false)"
            checks.append((column.name, negative, f"'negative duration ' || {quoted_value}", negative))
        if column.type == "timestamp" and future_limit:
            future = f"coalesce({parsed} > {future_limit}, false)"
            reason = (
                f"'timestamp in the future (after the load time {loaded_at[:19]} UTC + {tolerance:g} min) ' || "
                f"{quoted_value}"
            )
            checks.append((column.name, future, reason, future))
    parsed_of = {c.name: _typed(c.name, alias) for c in table.columns}
    for rule in table.rules:
        violated = rule.violated.format(**{name: f"({expr})" for name, expr in parsed_of.items()})
        reason = f'{sql_literal(rule.reason + " ")} || chr(39) || {alias}."{rule.field}" || chr(39)'
        broken = f"coalesce({violated}, false)"
        checks.append((rule.field, broken, reason, broken))
    return checks


def _error_cases(table: RawTable, alias: str, prefix: str = "", loaded_at: str = "") -> tuple[str, str]:
    """Two CASE expressions over a relation made by ``_stage_checked``: the first failing field (named with
    ``prefix``) and why it failed (``_checks``)."""
    checks = _checks(table, alias, loaded_at)
    if not checks:
        return "null", "null"
    reason_cases = " ".join(f"when {condition} then {reason}" for _, condition, reason, _ in checks)
    return _field_case(checks, prefix), f"case {reason_cases} end"


def _field_case(checks: list[tuple[str, str, str, str]], prefix: str) -> str:
    """The CASE naming the first of ``checks`` (non-empty) whose condition holds."""
    return "case " + " ".join(f"when {condition} then '{prefix}{field}'" for field, condition, _, _ in checks) + " end"


def _failing_field(table: RawTable, alias: str, prefix: str = "", loaded_at: str = "") -> str:
    """The first failing field's CASE, evaluated only on the rows that some check's screen does not clear: most
    rows pass every screen, and the CASE's trims of every value were a pass's worth of work (issue 22)."""
    checks = _checks(table, alias, loaded_at)
    if not checks:
        return "null"
    screen = " or ".join(dict.fromkeys(screen for _, _, _, screen in checks))
    return f"case when {screen} then {_field_case(checks, prefix)} end"


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
