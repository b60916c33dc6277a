"""The nightly write of ``int_prediction_rows`` outside dbt, for the bench and the tests: the SQL of the project's
incremental strategy (``dbt_project/macros/incremental_prediction_changes.sql``), rendered from the macro itself
so that what is measured and tested is what dbt runs."""

from __future__ import annotations

import duckdb
import jinja2
import pandas as pd
import pyarrow as pa

from contact_warehouse.settings import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "incremental_prediction_changes.sql"


def changes_sql(target: str, changes: str) -> str:
    """The statements that apply the change set in table ``changes`` to ``target`` (``prediction_changes_sql``)."""
    module = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(MACRO.read_text(encoding="utf-8")).module
    return str(module.prediction_changes_sql(target, changes))  # type: ignore[attr-defined]


def write(con: duckdb.DuckDBPyConnection, target: str, result: pd.DataFrame | duckdb.DuckDBPyRelation) -> None:
    """``target`` after a run whose model returned ``result``, as the strategy writes it: a change set (a relation
    of ``con``, from ``nightly_prediction_rows``, marked by a '__changes' row) applied inside the table in one
    transaction, or a whole result (a frame, or a reader of the batches computed in full) that becomes the table.
    The change set goes through a table first, as dbt's temp relation does."""
    if isinstance(result, pd.DataFrame | pa.RecordBatchReader):
        con.register("__prediction_rows_result", result)
        con.execute(f"create or replace table {target} as select * from __prediction_rows_result")
        con.unregister("__prediction_rows_result")
        return
    result.create("__prediction_rows_temp")
    con.execute("begin transaction")
    try:
        con.execute(changes_sql(target, "__prediction_rows_temp"))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists __prediction_rows_temp")
