"""One canonical CSV file's records checked in DuckDB, without loading them: the clean copy as text
(``_text``), its typed values, the records the scan refused (``_rej``) and the records a value check fails
(``_errs``). The loader inserts the rest; a mapping profile's check (``profile_check``) only reads the failures."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from contact_warehouse.engine.sql import sql_literal

from .common import SOURCE_LINE, max_record_bytes
from .csv_fast import plain_csv
from .rules import _stage_checked, errors_sql, replace_forced_errors
from .scan import _scan_csv
from .sources import RawTable


def raw_record_sql(table: RawTable, alias: str = "t") -> str:
    return "concat_ws(',', " + ", ".join(f"coalesce({alias}.\"{c}\", '')" for c in table.column_names) + ")"


def stage_csv(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, file: str, loaded_at: str) -> tuple:
    """Stage ``path``; returns (records read, the typed relation's name). Raises RefusedFileError."""
    with tempfile.TemporaryDirectory(prefix="contact_warehouse_load_") as tmp:
        clean = Path(tmp) / "records.csv"
        plain = plain_csv(path, file, table)
        if plain is not None:
            # One record per physical line after the header (csv_fast.py): the record's line is its ordinality + 1.
            data, records = plain
            clean.write_bytes(data)
            bad: list[tuple] = []
            columns = {n: "VARCHAR" for n in table.column_names}
            line_name, line_expr, ordinality = "ordinality", "ordinality + 1", " with ordinality"
        else:
            records, bad, has_line_column = _scan_csv(path, file, table, clean)
            line_name = SOURCE_LINE if has_line_column else "_line"
            columns = {**{n: "VARCHAR" for n in table.column_names}, line_name: "VARCHAR"}
            line_expr, ordinality = f"try_cast({line_name} as bigint)", ""
        spec = "{" + ", ".join(f"{sql_literal(n)}: '{t}'" for n, t in columns.items()) + "}"
        # The file is the clean copy written above (a safe temporary name): well-formed by construction. Read, parsed
        # and checked in one statement, while the copy exists.
        text = _stage_checked(
            con,
            table,
            f"""select * exclude ({line_name}), ({line_expr})::bigint as _line
                from read_csv({sql_literal(str(clean))}, columns = {spec}, header = true, auto_detect = false,
                              delim = ',', quote = '"', escape = '"', max_line_size = {2 * max_record_bytes() + 1024},
                              parallel = false){ordinality}""",
            "_text_typed",
            loaded_at=loaded_at,
        )
    con.execute("create or replace temp table _rej (line bigint, field varchar, reason varchar, raw_record varchar)")
    if bad:
        con.executemany("insert into _rej values (?, ?, ?, ?)", bad)
    failing = errors_sql(table, text, loaded_at=loaded_at, more=f", {raw_record_sql(table)} as raw_record")
    con.execute(f"create or replace temp table _errs as {failing}")
    return records, text


def force_rejections(
    con: duckdb.DuckDBPyConnection, table: RawTable, text: str, forced: dict[int, tuple[str, str]]
) -> None:
    """Reject every record of the ``forced`` source lines with the given field and reason, replacing the
    record's own failure: a source row rejected in one target of a mapping profile is rejected in all, with
    one reason."""
    if not forced:
        return
    replace_forced_errors(
        con,
        forced,
        f"select t._line, f.field, f.reason, {raw_record_sql(table)} from {text} t join _forced f on t._line = f.line",
    )
    con.execute("update _rej set field = f.field, reason = f.reason from _forced f where _rej.line = f.line")


def failures(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    """(line, field, reason) of every staged record that fails, by line."""
    return con.execute(
        "select _line, field, reason from _errs union all select line, field, reason from _rej order by 1"
    ).fetchall()
