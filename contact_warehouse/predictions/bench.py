"""Measure ``int_prediction_rows`` alone, outside dbt (issue 22): ``python -m contact_warehouse.predictions.bench``.

``stretch WAREHOUSE COPIES`` repeats, in a copy of a warehouse, the relations the model reads (``stretched``);
``dump WAREHOUSE DIR`` writes the three relations the dbt model reads (as it reads them) to Parquet files in DIR;
``rows DIR OUT [WINDOW HORIZON [HISTORY [COPIES [BATCH_ROWS]]]]`` computes the prediction rows from them as the
model does in full (by batches of about BATCH_ROWS rows; 0: in one batch) and makes them a table as dbt does,
writes them to OUT (Parquet, sorted, for an equality check between two versions of the code) and prints the CPU
seconds and peak RSS of the computation. HISTORY is the model's ``prediction_history_days`` (``all``: unbounded, the
default); COPIES > 1 first repeats the data back to back (``stretched``: a cost probe for a longer history at the
same daily volume, not real data). Run ``rows`` under ``/usr/bin/time -v`` for the process's own figures; on a
shared machine read CPU seconds and RSS, not wall time.

``nightly DIR [WINDOW HORIZON HISTORY COPIES WIDTH]`` measures the nightly (incremental) ``int_prediction_rows``
against the full recompute (issue 22): last night's table is the full result on the data as known a day before
the end (``as_of``, not timed), then both calls run on tonight's data and write as dbt's strategy does (the
incremental one its change set into a copy of last night's table, the full one a new table; ``strategy.write``),
and the two tables are compared row for row. WIDTH > 1 repeats the customers (``widened``) to reach the
benchmark's daily volume from the bundled sample.

``consumers WAREHOUSE [COPIES [HISTORY]]`` measures what the three models that read ``int_prediction_rows`` do with
it (``int_prediction_evaluation`` and the two scoring marts, issue 22): each one's read of the table (DuckDB into
pandas) and its fit, in CPU seconds, on the warehouse's table as it is (COPIES 1) or on a longer history at the same
daily volume (``stretched_rows``: the table repeated COPIES times back to back, bounded to HISTORY days, 90 by
default, as the model bounds it). It reads the warehouse read-only and works in a scratch DuckDB file.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from contact_warehouse.engine.duckdb_settings import apply_settings, warehouse_settings

from . import Frames, batched, frames_from
from .fingerprints import Sources
from .incremental import nightly_prediction_rows
from .strategy import write

# The dbt model's inputs (dbt_project/models/intermediate/predictions/int_prediction_rows.py).
INPUTS = {
    "interactions": "select * from intermediate.int_prediction_interactions",
    "surveys": "select customer_key, responded_at, survey_type, score from marts.fct_survey_answers "
    "where is_valid_score and customer_key is not null",
    "customers": "select customer_key, customer_ref, value_tier, crm_created_at, churned_at from marts.dim_customers",
}


def dump(warehouse: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, sql in INPUTS.items():
            con.sql(sql).write_parquet(str(folder / f"{name}.parquet"))


def stretch_warehouse(warehouse: Path, copies: int) -> None:
    """``stretched`` in a (copied!) warehouse, in place: the three relations int_prediction_rows reads repeated
    back to back, so that ``dbt run -s int_prediction_rows+`` measures the prediction models on a longer history
    at the same daily volume. Overwrites those relations; everything else is left as it was."""
    with duckdb.connect(str(warehouse)) as con:
        ((start, end),) = con.sql(
            "select min(started_at), max(ended_at) from intermediate.int_prediction_interactions"
        ).fetchall()
        days = (pd.Timestamp(end).ceil("D") - pd.Timestamp(start).floor("D")).days
        copy = range(copies)
        con.execute(
            "create or replace table intermediate.int_prediction_interactions as "
            + " union all ".join(
                f"select * replace (interaction_id || '#{i}' as interaction_id, engagement_id || '#{i}' as "
                f"engagement_id, started_at + interval {i * days} day as started_at, ended_at + interval {i * days} "
                "day as ended_at) from intermediate.int_prediction_interactions"
                for i in copy
            )
        )
        con.execute(
            "create or replace table marts.fct_survey_answers as "
            + " union all ".join(
                f"select * replace (response_id || '#{i}' as response_id, responded_at + interval {i * days} day "
                "as responded_at) from marts.fct_survey_answers"
                for i in copy
            )
        )
        con.execute(f"update marts.dim_customers set churned_at = churned_at + interval {(copies - 1) * days} day")


def stretched(frames: Frames, copies: int) -> Frames:
    """``frames`` repeated ``copies`` times back to back, each copy shifted by the data's length in whole days, with
    fresh interaction and engagement ids and the same customers (their churns moved into the last copy): the same
    daily volume over a longer history."""
    if copies <= 1:
        return frames
    days = pd.Timedelta(days=(frames.data_end.ceil("D") - frames.data_start.floor("D")).days)
    it, sv = [], []
    for i in range(copies):
        shifted = frames.interactions.assign(
            started_at=frames.interactions["started_at"] + i * days,
            ended_at=frames.interactions["ended_at"] + i * days,
            interaction_id=frames.interactions["interaction_id"] + f"#{i}",
            engagement_id=frames.interactions["engagement_id"] + f"#{i}",
        )
        it.append(shifted)
        sv.append(frames.surveys.assign(responded_at=frames.surveys["responded_at"] + i * days))
    customers = frames.customers.assign(churned_at=frames.customers["churned_at"] + (copies - 1) * days)
    return Frames(pd.concat(it, ignore_index=True), pd.concat(sv, ignore_index=True), customers)


def widened(frames: Frames, copies: int) -> Frames:
    """``frames`` with every customer repeated ``copies`` times under new keys (their contacts, answers and CRM
    row with them): the same history at ``copies`` times the daily volume."""
    if copies <= 1:
        return frames

    def repeat(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
        return pd.concat(
            [df.assign(**{c: df[c] + f"~{i}" for c in columns if c in df}) for i in range(copies)], ignore_index=True
        )

    keys = ("customer_key", "interaction_id", "engagement_id")
    return Frames(
        repeat(frames.interactions, keys),
        repeat(frames.surveys, ("customer_key",)),
        repeat(frames.customers, ("customer_key", "customer_ref")),
    )


def as_of(frames: Frames, t: pd.Timestamp) -> Frames:
    """The data a run at ``t`` had: what ended or was answered by ``t``, the CRM records created by then, a churn
    after ``t`` not yet recorded."""
    cu = frames.customers[frames.customers["crm_created_at"].isna() | (frames.customers["crm_created_at"] <= t)]
    return Frames(
        frames.interactions[frames.interactions["ended_at"] <= t].reset_index(drop=True),
        frames.surveys[frames.surveys["responded_at"] <= t].reset_index(drop=True),
        cu.assign(churned_at=cu["churned_at"].where(cu["churned_at"] <= t)).reset_index(drop=True),
    )


def as_tables(con: duckdb.DuckDBPyConnection, frames: Frames) -> Sources:
    """``frames`` written to tables of ``con`` (interactions, surveys, customers), as relations over them."""
    for name, df in (
        ("interactions", frames.interactions),
        ("surveys", frames.surveys),
        ("customers", frames.customers),
    ):
        con.register("__frame", df)
        con.execute(f"create or replace table {name} as select * from __frame")
        con.unregister("__frame")
    return Sources(con.table("interactions"), con.table("surveys"), con.table("customers"))


def nightly(
    folder: Path,
    window_days: int = 7,
    horizon_days: int = 30,
    history_days: int | None = 90,
    copies: int = 1,
    width: int = 1,
) -> None:
    with duckdb.connect() as con:
        frames = {name: con.sql(f"select * from read_parquet('{folder / name}.parquet')").df() for name in INPUTS}
    data = frames_from(frames["interactions"], frames["surveys"], frames["customers"])
    data = widened(stretched(data, copies), width)
    del frames
    last = data.data_end - pd.Timedelta(days=1)
    print(f"{len(data.interactions):,} interactions from {data.data_start} to {data.data_end}; last night {last}")
    con = duckdb.connect()
    previous = nightly_prediction_rows(as_of(data, last), window_days, horizon_days, history_days, con, None)
    write(con, "previous", previous)
    # Tonight's run writes into last night's table, as the strategy does (a copy, not timed).
    con.execute("create table incremental as select * from previous")
    del previous
    # Tonight's inputs as tables, as the dbt model finds them (not timed): the model reads relations, not frames.
    tonight = as_tables(con, data)
    del data
    timings = {}
    for name, source in (("incremental", "incremental"), ("recomputed", None)):
        began, cpu = time.perf_counter(), time.process_time()
        result = nightly_prediction_rows(tonight, window_days, horizon_days, history_days, con, source)
        kind = "change set (incremental)" if isinstance(result, duckdb.DuckDBPyRelation) else "computed in full"
        write(con, name, result)
        timings[name] = (time.process_time() - cpu, time.perf_counter() - began)
        print(f"{name}: {timings[name][0]:.1f} s CPU ({timings[name][1]:.1f} s wall); result {kind}")
        if isinstance(result, duckdb.DuckDBPyRelation):
            ((rows_written, instructions),) = result.aggregate(
                "count(*) filter (left(model_name, 2) <> '__'), count(*) filter (left(model_name, 2) = '__')"
            ).fetchall()
            print(f"  change set: {rows_written:,} rows written, {instructions:,} instructions")
    ((n,),) = con.sql("select count(*) from recomputed").fetchall()
    ((a,),) = con.sql("select count(*) from (select * from incremental except all select * from recomputed)").fetchall()
    ((b,),) = con.sql("select count(*) from (select * from recomputed except all select * from incremental)").fetchall()
    ratio = timings["incremental"][0] / timings["recomputed"][0]
    print(f"{n:,} rows; rows in one table only: {a + b}; incremental / full CPU {ratio:.2f}")


def rows(
    folder: Path,
    out: Path,
    window_days: int = 7,
    horizon_days: int = 30,
    history_days: int | None = None,
    copies: int = 1,
    batch_rows: int | None = None,
) -> None:
    """The model's full computation (``nightly_prediction_rows`` without a previous table) made a table as dbt
    makes it, on a DuckDB connection with dbt's memory limit (``engine/duckdb_settings.py``), by batches of about
    ``batch_rows`` rows (default ``batched.BATCH_ROWS``; 0: one batch, the frame of the whole table)."""
    with duckdb.connect() as con:
        frames = {name: con.sql(f"select * from read_parquet('{folder / name}.parquet')").df() for name in INPUTS}
    data = stretched(frames_from(frames["interactions"], frames["surveys"], frames["customers"]), copies)
    del frames
    print(f"{len(data.interactions):,} interactions from {data.data_start} to {data.data_end}")
    if batch_rows is not None:
        batched.BATCH_ROWS = batch_rows or 10**15
    with tempfile.TemporaryDirectory() as scratch:
        con = duckdb.connect(str(Path(scratch) / "rows.duckdb"))
        apply_settings(con, warehouse_settings(Path(scratch) / "rows.duckdb", preserve_insertion_order=False))
        began, cpu = time.perf_counter(), time.process_time()
        result = nightly_prediction_rows(data, window_days, horizon_days, history_days, con, None)
        write(con, "int_prediction_rows", result)  # as dbt-duckdb materializes the model's result
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
        del result
        table = con.table("int_prediction_rows")
        ((n,),) = table.aggregate("count(*)").fetchall()
        table.order("model_name, snapshot_at, customer_key, engagement_id").write_parquet(str(out))
        con.close()
    print(f"{n:,} rows; computed and written {cpu:.1f} s CPU ({seconds:.1f} s wall); peak RSS {peak:.2f} GiB")


def stretched_rows(con: duckdb.DuckDBPyConnection, source: str, target: str, copies: int, history_days: int) -> None:
    """Table ``target``: the prediction rows of ``source`` repeated ``copies`` times back to back (each copy's times
    shifted by the source's span in whole days, engagement ids made distinct), only the times of the last
    ``history_days`` days kept and ``label_known`` recomputed against the last time, as ``int_prediction_rows``
    would hold them on that longer history: a cost probe for the models that read it, not real rows (the labels and
    features are the source's)."""
    ((first, last),) = con.sql(f"select min(snapshot_at), max(snapshot_at) from {source}").fetchall()
    days = (pd.Timestamp(last).floor("D") - pd.Timestamp(first).floor("D")).days + 1
    copied = " union all ".join(
        f"select * replace (snapshot_at + interval {i * days} day as snapshot_at, "
        f"engagement_id || '#{i}' as engagement_id) from {source}"
        for i in range(copies)
    )
    con.execute(
        f"""create or replace table {target} as
        with copied as ({copied}), bound as (select max(snapshot_at) as end_at from copied)
        select copied.* replace (snapshot_at + to_days(cast(horizon_days as integer)) <= end_at as label_known)
        from copied, bound where snapshot_at > end_at - to_days({int(history_days)})"""
    )


def consumers(warehouse: Path, copies: int = 1, history_days: int = 90, max_rows: int = 250_000) -> None:
    """Per model that reads ``int_prediction_rows``, the CPU seconds of its read and of its fit (module docstring)."""
    from . import CHURN, REPEAT_CONTACT, evaluation_and_calibration, rows_to_evaluate, rows_to_score, scores

    with tempfile.TemporaryDirectory() as scratch:
        con = duckdb.connect(str(Path(scratch) / "rows.duckdb"))
        con.execute("set enable_progress_bar = false")  # the timings' lines, not DuckDB's bars
        con.execute(f"attach '{warehouse}' as w (read_only)")
        con.execute("create table source as select * from w.intermediate.int_prediction_rows")
        con.execute("detach w")
        stretched_rows(con, "source", "rows", copies, history_days)
        ((n, known),) = con.sql("select count(*), count(*) filter (label_known) from rows").fetchall()
        print(f"{n:,} rows ({known:,} of known outcome), {copies} copies, {history_days} days")
        rows = con.table("rows")
        ((window, horizon),) = con.sql(
            "select max(horizon_days) filter (model_name = 'repeat_contact'), "
            "max(horizon_days) filter (model_name = 'churn') from rows"
        ).fetchall()
        horizons = {REPEAT_CONTACT: window or 7, CHURN: horizon or 30}

        def timed(label: str, step: Callable[[], pd.DataFrame]) -> pd.DataFrame:
            began = time.process_time()
            out = step()
            print(f"{label}: {time.process_time() - began:.2f} s CPU", flush=True)
            return out

        evaluated = timed("int_prediction_evaluation read", lambda: rows_to_evaluate(rows, max_rows))
        timed("int_prediction_evaluation fit", lambda: evaluation_and_calibration(evaluated, horizons))
        for task in (REPEAT_CONTACT, CHURN):
            scored = timed(f"mart_{task}_predictions read", lambda task=task: rows_to_score(rows, task, max_rows))
            timed(f"mart_{task}_predictions fit", lambda task=task, scored=scored: scores(scored, task))
        con.close()


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "dump" and len(args) == 2:
        dump(Path(args[0]), Path(args[1]))
    elif command == "nightly" and len(args) in (1, 4, 5, 6):
        numbers = [int(a) for a in args[1:3]]
        history = [None if args[3] == "all" else int(args[3])] if len(args) > 3 else []
        nightly(Path(args[0]), *numbers, *history, *(int(a) for a in args[4:]))
    elif command == "consumers" and len(args) in (1, 2, 3):
        consumers(Path(args[0]), *(int(a) for a in args[1:]))
    elif command == "stretch" and len(args) == 2:
        stretch_warehouse(Path(args[0]), int(args[1]))
    elif command == "rows" and len(args) in (2, 4, 5, 6, 7):
        numbers = [int(a) for a in args[2:4]]
        history = [None if args[4] == "all" else int(args[4])] if len(args) > 4 else []
        rows(Path(args[0]), Path(args[1]), *numbers, *history, *(int(a) for a in args[5:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
