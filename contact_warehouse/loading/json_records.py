"""JSON exports in DuckDB: one record per JSON line or per item of a ``{"items": [...]}`` document, invalid and
over-long records set aside, then one text table per raw table (the record's own fields and its arrays)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from contact_warehouse.engine.sql import sql_literal

from .common import MAX_RECORD_BYTES_ENV, RAW_RECORD_KEEP, max_record_bytes
from .rules import _stage_checked, errors_sql, replace_forced_errors
from .scan import RefusedFileError, _open_binary, _stage_jsonl
from .sources import JSON_ARRAYS, JSON_PATHS, JSON_SCALAR_ARRAYS, Export, RawTable


def _json_text_select(table: RawTable, doc: str, key_columns: dict[str, str], source: str) -> str:
    """``select _line, <the table's columns as text> from (source)``: each column read from the JSON value ``doc``
    by its path, or given by ``key_columns`` (SQL over ``source``). All paths are read in one call, which parses
    the value once: one ``json_extract_string`` per column parsed the whole record once per column, 10x slower on
    a ticket file (issue 22). A missing path gives NULL either way."""
    paths = JSON_PATHS.get(table.name, {})
    read = [c.name for c in table.columns if c.name not in key_columns]
    exprs = [
        f'{key_columns[c.name]} as "{c.name}"'
        if c.name in key_columns
        else f'_values[{read.index(c.name) + 1}] as "{c.name}"'
        for c in table.columns
    ]
    if not read:
        return f"select _line, {', '.join(exprs)} from ({source})"
    path_list = "[" + ", ".join(sql_literal("$." + paths[name]) for name in read) + "]"
    return (
        f"select _line, {', '.join(exprs)} "
        f"from (select *, json_extract_string({doc}, {path_list}) as _values from ({source}))"
    )


def _stage_json_records(con: duckdb.DuckDBPyConnection, export: Export, path: Path, origin: str) -> int:
    """Fill temp table ``_recs(_line, doc, raw_record)`` with one JSON record each, ``_bad`` with invalid ones;
    return the number of records read."""
    if export.format == "jsonl":
        records = _stage_jsonl(con, path, origin)
        con.execute(
            """insert into _bad select _line, '*' as field, 'invalid JSON' as reason,
               raw_record from _lines where not coalesce(json_valid(raw_record), false)
               or json_type(raw_record) <> 'OBJECT'"""
        )
        con.execute(
            """create or replace temp table _recs as select _line, json(raw_record) as doc, raw_record
               from _lines where _line not in (select _line from _bad)"""
        )
        return records
    with _open_binary(path) as handle:
        data = handle.read()
    if not data.strip():
        raise RefusedFileError(f'{origin}: empty file ({len(data)} bytes): expected a JSON document {{"items": [...]}}')
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RefusedFileError(
            f"{origin}: not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} (byte {exc.start} of the file) "
            "cannot be decoded; re-export the file as UTF-8"
        ) from None
    del data
    con.execute("create or replace temp table _doc as select ? as content", [content])
    if not con.execute("select coalesce(json_valid(content), false) from _doc").fetchone()[0]:
        try:
            json.loads(content)
            problem = "not valid JSON"
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise RefusedFileError(f'{origin}: {problem}; expected a JSON document {{"items": [...]}}')
    if con.execute("select json_type(content, '$.items') from _doc").fetchone()[0] != "ARRAY":
        raise RefusedFileError(f'{origin}: not a JSON document of the form {{"items": [...]}} (no "items" array)')
    # A JSON document has no useful line numbers: records are numbered by their 0-based index in items.
    # The document is parsed once and its items unnested: extracting item i by path re-parses the whole
    # document per item, quadratic in time and memory (out of memory at 10 million events).
    con.execute(
        """create or replace temp table _recs as
           select position - 1 as _line, doc, doc::varchar as raw_record
           from (
               select unnest(items) as doc, generate_subscripts(items, 1) as position
               from (select json_extract(content, '$.items[*]') as items from _doc)
           )"""
    )
    limit = max_record_bytes()
    con.execute(
        f"""create or replace temp table _bad as
            select _line, '*' as field,
                   case when json_type(doc) <> 'OBJECT' then 'item is not a JSON object'
                        else 'item of ' || strlen(raw_record) || ' bytes, longer than the maximum record size of '
                             || {limit} || ' ({MAX_RECORD_BYTES_ENV})' end as reason,
                   left(raw_record, {RAW_RECORD_KEEP}) as raw_record
            from _recs where json_type(doc) <> 'OBJECT' or strlen(raw_record) > {limit}"""
    )
    con.execute("delete from _recs where _line in (select _line from _bad)")
    return con.execute("select (select count(*) from _recs) + (select count(*) from _bad)").fetchone()[0]


def _json_text_sources(export: Export) -> list[tuple[RawTable, str, str]]:
    """Per raw table of the export: (table, the SQL of its rows as text read from ``_recs``, field prefix for
    errors)."""
    parent = export.main_table
    key = parent.key[0]
    parent_key_expr = f"json_extract_string(doc, {sql_literal('$.' + JSON_PATHS[parent.name][key])})"
    sources = [(parent, _json_text_select(parent, "doc", {}, "select _line, doc from _recs"), "")]
    for child in export.tables[1:]:
        array = JSON_ARRAYS[child.name]
        index_col = next(c.name for c in child.columns if c.name.endswith("_index"))
        keys = {key if key in child.column_names else parent.key[0]: "_parent_key", index_col: "i::varchar"}
        if child.name in JSON_SCALAR_ARRAYS:
            keys[JSON_SCALAR_ARRAYS[child.name]] = "json_extract_string(_element, '$')"
        # Each record's array is unnested once (element and its 0-based index side by side), and the child's
        # fields read from the small element: reading `$.array[i].field` from the whole record re-parsed the record
        # once per field and element, most of a ticket or chat file's load (issue 22). Same rows: a missing, null
        # or non-array value has no element, a null element gives NULL fields.
        elements = f"""
            select _line, _parent_key, unnest(_elements) as _element, generate_subscripts(_elements, 1) - 1 as i
            from (
                select _line, {parent_key_expr} as _parent_key, json_extract(doc, '$.{array}[*]') as _elements
                from _recs
            )"""
        sources.append((child, _json_text_select(child, "_element", keys, elements), f"{array}[]."))
    return sources


def stage_json(
    con: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    origin: str,
    loaded_at: str,
    line_map: dict[int, int] | None = None,
) -> tuple[int, list[tuple[RawTable, str, str]]]:
    """Stage a JSON export's file and find each record's first failure (``_errs``: the record's own, then the
    parent table's, then each nested list's). ``line_map`` renumbers records by the foreign file's lines when the
    file is a mapping profile's conversion. Returns the records read and the typed relations per table."""
    records = _stage_json_records(con, export, path, origin)
    if line_map:
        con.execute("create or replace temp table _linemap (converted bigint, source bigint)")
        con.executemany("insert into _linemap values (?, ?)", list(line_map.items()))
        for temp in ("_recs", "_bad"):
            con.execute(f"update {temp} set _line = m.source from _linemap m where {temp}._line = m.converted")
    staged = []
    for table, text_sql, prefix in _json_text_sources(export):
        # The text is made a table first: read inside the checks' statement, DuckDB repeated the JSON extraction
        # for every reference to a column (measured slower than the two statements).
        con.execute(f"create or replace temp table _t_{table.name} as {text_sql}")
        relation = f"_t_{table.name}_typed"
        staged.append(
            (table, _stage_checked(con, table, f"select * from _t_{table.name}", relation, prefix, loaded_at), prefix)
        )
    error_selects = ["select _line, field, reason, 0 as priority from _bad"]
    for priority, (table, relation, prefix) in enumerate(staged, start=1):
        error_selects.append(errors_sql(table, relation, prefix, loaded_at, more=f", {priority} as priority"))
    con.execute(
        f"""create or replace temp table _errs as
            select e._line, arg_min(e.field, e.priority) as field, arg_min(e.reason, e.priority) as reason,
                   coalesce(any_value(r.raw_record), any_value(b.raw_record)) as raw_record
            from ({" union all ".join(error_selects)}) e
            left join _recs r using (_line) left join _bad b using (_line)
            group by e._line"""
    )
    return records, staged


def force_json_rejections(con: duckdb.DuckDBPyConnection, forced: dict[int, tuple[str, str]]) -> None:
    """Reject the records of the ``forced`` source lines with the given field and reason (a mapping profile's
    source row rejected in another target), replacing their own failure."""
    if not forced:
        return
    replace_forced_errors(
        con,
        forced,
        """select r._line, f.field, f.reason, r.raw_record from _recs r join _forced f on r._line = f.line
           union all select b._line, f.field, f.reason, b.raw_record from _bad b join _forced f on b._line = f.line""",
    )


def json_failures(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    return con.execute("select _line, field, reason from _errs order by 1").fetchall()
