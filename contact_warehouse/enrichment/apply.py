"""Write the enriched columns (columns.py) of raw rows, in the loader's transaction.

Each function of a column runs once per distinct input value of the rows in scope (exports repeat the same
numbers, e-mails and texts), and the results are written with one UPDATE ... FROM per column, so the loader's
vectorised path stays in DuckDB.

``raw._enrichment`` remembers per raw table the fingerprint of what its rows were enriched with (method version,
default phone region and a fingerprint of the key, never the key). When it differs (a warehouse loaded before
these columns existed, a rotated key, another region), ``prepare_tables`` recomputes the columns of every row of
the table before new rows are loaded, so a table never mixes hashes of two keys.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow as pa

from .columns import ENRICHED_COLUMNS, SNAPSHOT_TABLES, EnrichedColumn, Enricher
from .functions import key_fingerprint, phone_region, pii_key

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
STATE = f"{RAW_SCHEMA}._enrichment"
# Bump when a function's output changes for the same input: every raw table is then enriched again.
METHOD_VERSION = "1"
_MAP = "_enrichment_map"


def database_path(con: Any) -> Path | None:
    """The file behind the connection's current database (None in memory): the key file sits beside it."""
    row = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    return Path(row[0]) if row and row[0] else None


def enricher_for(con: Any) -> Enricher:
    return Enricher(key=pii_key(database_path(con)), region=phone_region())


def fingerprint(enricher: Enricher) -> str:
    return f"v{METHOD_VERSION};region={enricher.region};key={key_fingerprint(enricher.key)}"


def _columns_present(con: Any, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [RAW_SCHEMA, table],
    ).fetchall()
    return {name for (name,) in rows}


def prepare_tables(con: Any, tables: list[str], enricher: Enricher | None = None) -> list[str]:
    """Add the enriched columns the raw ``tables`` lack and re-enrich every row of a table enriched otherwise
    (or never). Returns the tables re-enriched. Runs in a transaction of its own."""
    enricher = enricher or enricher_for(con)
    wanted = fingerprint(enricher)
    con.execute(f"create table if not exists {STATE} (raw_table varchar, fingerprint varchar, enriched_at timestamp)")
    redone = []
    for table in tables:
        columns = ENRICHED_COLUMNS.get(table, ())
        if not columns:
            continue
        present = _columns_present(con, table)
        state = con.execute(f"select fingerprint from {STATE} where raw_table = ?", [table]).fetchone()
        if state is not None and state[0] == wanted and all(c.name in present for c in columns):
            continue
        con.execute("begin transaction")
        try:
            for column in columns:
                con.execute(
                    f"alter table {RAW_SCHEMA}.{table} add column if not exists {column.name} {column.sql_type}"
                )
                con.execute(f"update {RAW_SCHEMA}.{table} set {column.name} = null where {column.name} is not null")
            enrich_rows(con, table, "true", enricher)
            con.execute(f"delete from {STATE} where raw_table = ?", [table])
            con.execute(f"insert into {STATE} values (?, ?, now()::timestamp)", [table, wanted])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        redone.append(table)
    if redone:
        log.info("Enriched every row of raw tables %s (%s)", ", ".join(redone), wanted.split(";key=")[0])
    return redone


def enrich_rows(con: Any, table: str, scope: str, enricher: Enricher, relation: str = "") -> None:
    """Compute the enriched columns of the rows of ``raw.<table>`` where ``scope`` (SQL) holds; or of the rows of
    ``relation``, a table with raw.<table>'s columns (the loader's new rows, before they join the raw table)."""
    for column in ENRICHED_COLUMNS.get(table, ()):
        if relation and table in SNAPSHOT_TABLES:
            _copy_known(con, relation, f"{RAW_SCHEMA}.{table}", column, scope)
        _enrich_column(con, relation or f"{RAW_SCHEMA}.{table}", column, scope, enricher)


def _copy_known(con: Any, relation: str, raw: str, column: EnrichedColumn, scope: str) -> None:
    """Fill ``column`` of the new rows whose inputs a raw row already has an output for. prepare_tables made every
    raw row's output with this load's key, region and method, so a function's output for those inputs is that
    one: copying it is exact, and the function runs only on inputs new to the table (a nightly CRM snapshot
    repeats every customer's phone number, whose parsing was the night's largest load cost)."""
    inputs = [f'"{name}"' for name in column.inputs]
    present = " and ".join(f"{name} is not null" for name in inputs)
    on_new = " and ".join(f"r.{name} = n.{name}" for name in inputs)
    on_known = " and ".join(f"t.{name} = k.{name}" for name in inputs)
    con.execute(
        f"""update {relation} as t set {column.name} = k.out
        from (
            select {", ".join(f"r.{name}" for name in inputs)}, any_value(r.{column.name}) as out
            from {raw} as r
            inner join (select distinct {", ".join(inputs)} from {relation} where ({scope}) and {present}) as n
                on {on_new}
            where r.{column.name} is not null
            group by all
        ) as k
        where ({scope}) and {on_known}"""
    )


def _enrich_column(con: Any, relation: str, column: EnrichedColumn, scope: str, enricher: Enricher) -> None:
    inputs = [f'"{name}"' for name in column.inputs]
    # Rows already filled (by _copy_known) keep their value; every other row's output is computed.
    present = " and ".join([f"{name} is not null" for name in inputs] + [f"{column.name} is null"])
    distinct = con.execute(
        f"select distinct {', '.join(inputs)} from {relation} where ({scope}) and {present}"
    ).fetchall()
    function = column.function(enricher)
    mapped = [(row, function(*row)) for row in distinct]
    mapped = [(row, out) for row, out in mapped if out is not None]
    if not mapped:
        return
    arrays = {f"i{i}": pa.array([row[i] for row, _ in mapped], pa.string()) for i in range(len(inputs))}
    out_type = pa.float64() if column.sql_type == "double" else pa.string()
    arrays["out"] = pa.array([out for _, out in mapped], out_type)
    con.register(_MAP, pa.table(arrays))
    try:
        joined = " and ".join(f"t.{name} = m.i{i}" for i, name in enumerate(inputs))
        con.execute(f"update {relation} as t set {column.name} = m.out from {_MAP} as m where ({scope}) and {joined}")
    finally:
        con.unregister(_MAP)
