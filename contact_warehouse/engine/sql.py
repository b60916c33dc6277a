"""Quoting for the SQL the project writes itself: one function for a string literal, one for an identifier."""

from __future__ import annotations


def sql_literal(value: str) -> str:
    """``value`` as a SQL string literal (it's becomes 'it''s'). Paths, load ids and reasons enter SQL only this
    way, as values: DuckDB never takes a user's path as SQL text."""
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a"b becomes "a""b"), for table and column names read from a database."""
    return '"' + name.replace('"', '""') + '"'
