"""The loader's value checks find each row's first failing field through cheap screens (``rules._failing_field``):
the CASE of every check runs only on the rows a screen does not clear. A screen that misses a failing value would
load that row instead of quarantining it, so the screened field must equal the unscreened CASE on every row."""

from __future__ import annotations

import random

import duckdb
import pytest

from contact_warehouse.loading.rules import _error_cases, _stage_checked
from contact_warehouse.loading.sources import EXPORTS

# Values chosen at the checks' edges: absent, empty, spaces only (trim removes spaces, not tabs), numbers a cast
# would bend, timestamps that do not parse, lie in the future or order two columns the wrong way.
VALUES = [
    None, "", " ", "   ", "\t", " a", "a ", "abc", "0", "12", " 12 ", "+7", "12.0", "12.5", "-3", "-0", "1e3",
    "0x1F", "true", "false", "yes", "2026-10-05T09:14:03Z", "2026-10-05 09:14:03", "2026-10-05T11:14:03+02:00",
    "2026-10-04T23:59:59Z", "2026-13-45T99:00", "2099-01-01T00:00:00Z", " 2026-10-05T09:15:00Z",
]  # fmt: skip
LOADED_AT = "2026-10-06T00:00:00+00:00"
TABLES = [table for export in EXPORTS for table in export.tables]


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_the_screened_first_failure_equals_every_check_in_order(table) -> None:
    rng = random.Random(table.name)
    rows = [(line, *(rng.choice(VALUES) for _ in table.columns)) for line in range(1, 801)]
    # Rows that differ from a valid-looking one in a single column, so that each check is the first to fail somewhere.
    base = [rng.choice(["c1", "12", "2026-10-05T09:14:03Z"]) for _ in table.columns]
    for i, _ in enumerate(table.columns):
        for value in VALUES:
            rows.append((len(rows) + 1, *base[:i], value, *base[i + 1 :]))
    con = duckdb.connect()
    columns = ", ".join(f'"{c.name}" varchar' for c in table.columns)
    con.execute(f"create table rows_text (_line bigint, {columns})")
    con.executemany(f"insert into rows_text values ({', '.join('?' * (len(table.columns) + 1))})", rows)
    relation = _stage_checked(con, table, "select * from rows_text", "checked", "prefix.", LOADED_AT)
    every_check, _ = _error_cases(table, "t", "prefix.", loaded_at=LOADED_AT)
    apart = con.execute(
        f"select t._line, t._field, {every_check} from {relation} t where t._field is distinct from ({every_check})"
    ).fetchall()
    assert apart == []
    failing = con.execute(f"select count(*), count(distinct _field) from {relation} where _field is not null")
    count, fields = failing.fetchone()
    assert count > 0 and (fields > 1 or len(table.columns) == 1)
