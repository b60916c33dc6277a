"""Measurements behind `forecast_history_weeks` (docs/staffing.md "How much history the forecast learns from").

``accuracy WAREHOUSE [BOUNDS] [ORIGINS] [MINUTES]``: the whole forecast procedure (backtest, choice against the
seasonal naive, forecast) run from each of the last ORIGINS weekly origins of the warehouse's MINUTES-minute (30)
``marts.mart_staffing_queue_intervals``, on the history before the origin cut to each bound of BOUNDS (weeks, comma
separated; ``all`` for no bound), and scored on the week after it: out-of-sample WAPE and MASE of what the forecast
would have shipped, pooled over queues and origins, beside MSTL's alone and the seasonal naive's.

``time WAREHOUSE [BOUNDS]``: CPU seconds of the two staffing bodies (``int_staffing_forecast`` by bound after a first
call that pays the imports, ``int_staffing_actuals``) on the warehouse's tables, as dbt runs them.

``stretch WAREHOUSE COPIES``: in a (copied!) warehouse, ``marts.mart_staffing_queue_intervals`` gets COPIES earlier
copies of its first 28 days, each 28 days before the last (weekdays stay aligned): a cost probe for a longer history,
not data to judge accuracy on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from contact_warehouse.staffing.forecast import (
    BASELINE,
    Accuracy,
    backtest,
    forecast_offered,
    history_start,
    local_series,
)

INTERVAL_MINUTES = 30
ZONE = "UTC"


def _cut(series: pd.DataFrame, weeks: int | None, minutes: int) -> pd.DataFrame:
    if weeks is None:
        return series
    return series[series["ds"] >= history_start(series["ds"].max(), minutes, weeks)]


def _forced(series: pd.DataFrame, model: str, minutes: int) -> pd.DataFrame:
    queues = sorted(series["queue"].unique())
    accuracy = [Accuracy(q, model, None, None, None, None, None, None, None, None, 0, 0, "") for q in queues]
    return forecast_offered(series, accuracy, minutes, 7)


def accuracy_by_bound(
    series: pd.DataFrame, bounds: list[int | None], origins: int, minutes: int = INTERVAL_MINUTES
) -> pd.DataFrame:
    """Out-of-sample errors per bound and forecaster, pooled over queues and the last `origins` weekly origins.

    MASE's scale is, per queue, the weekly seasonal naive's in-sample mean absolute error over the history before
    the first origin: the same for every bound, so MASE compares bounds (the backtest's own MASE does not)."""
    weekly = 7 * 24 * 60 // minutes
    grid = np.sort(series["ds"].unique())
    cuts = [pd.Timestamp(grid[len(grid) - k * weekly]) for k in range(origins, 0, -1)]
    scale = {}
    for queue, rows in series[series["ds"] < cuts[0]].groupby("queue"):
        y = rows["offered"].to_numpy()
        scale[queue] = float(np.abs(y[weekly:] - y[:-weekly]).mean())
    errors, cpu, chosen_models = [], {}, {}
    for cut in cuts:
        before, after = series[series["ds"] < cut], series[(series["ds"] >= cut)]
        actual = after.groupby("queue").head(weekly)[["queue", "ds", "offered"]]
        for weeks in bounds:
            history = _cut(before, weeks, minutes)
            began = time.process_time()
            chosen = forecast_offered(history, backtest(history, minutes), minutes, 7)
            seconds = time.process_time() - began
            frames = {"chosen": chosen, "mstl": _forced(history, "mstl", minutes),
                      BASELINE: _forced(history, BASELINE, minutes)}  # fmt: skip
            for name, predicted in frames.items():
                joined = actual.merge(predicted, on=["queue", "ds"], how="left")
                joined["error"] = (joined["offered"] - joined["forecast_offered"]).abs()
                for queue, rows in joined.groupby("queue"):
                    errors.append({
                        "bound_weeks": "all" if weeks is None else weeks, "forecaster": name, "origin": cut,
                        "queue": queue, "abs_error": rows["error"].sum(), "actual": rows["offered"].sum(),
                        "mase": rows["error"].mean() / scale[queue] if scale.get(queue) else np.nan,
                    })  # fmt: skip
            cpu[weeks] = cpu.get(weeks, 0.0) + seconds / origins
            chosen_models.setdefault(weeks, set()).update(chosen["forecast_model"])
    table = (
        pd.DataFrame(errors)
        .groupby(["bound_weeks", "forecaster"], sort=False)
        .agg(abs_error=("abs_error", "sum"), actual=("actual", "sum"), mase=("mase", "mean"))
        .reset_index()
    )
    table["wape"] = table["abs_error"] / table["actual"]
    chosen_rows = table["forecaster"] == "chosen"
    label = {("all" if w is None else w): w for w in bounds}
    # The whole procedure's CPU seconds per origin (all queues), and the models it shipped over the origins.
    table["cpu_seconds"] = table["bound_weeks"].map(lambda b: cpu[label[b]]).where(chosen_rows)
    table["models"] = table["bound_weeks"].map(lambda b: ",".join(sorted(chosen_models[label[b]]))).where(chosen_rows)
    return table[["bound_weeks", "forecaster", "wape", "mase", "cpu_seconds", "models"]]


def _series(warehouse: Path, minutes: int) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        intervals = con.sql(
            f"select * from marts.mart_staffing_queue_intervals where interval_minutes = {minutes}"
        ).df()
    return local_series(intervals, ZONE, minutes)


def time_bodies(warehouse: Path, bounds: list[int | None]) -> list[tuple[str, float]]:
    """CPU seconds of int_staffing_forecast's body per bound and of int_staffing_actuals' body."""
    from contact_warehouse.engine.python_models import Params, staffing_actuals, staffing_forecast

    timings = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        inputs = {
            "mart_staffing_queue_intervals": con.table("marts.mart_staffing_queue_intervals"),
            "int_queue_service_levels": con.table("intermediate.int_queue_service_levels"),
        }
        # The first call imports statsforecast and compiles its numba functions (a fixed cost each night, whatever
        # the history): timed apart, so that the bounds compare the fits.
        began = time.process_time()
        staffing_forecast(inputs, Params(staffing_interval_minutes=INTERVAL_MINUTES, forecast_horizon_days=14,
                                         forecast_history_weeks=3, reporting_timezone=ZONE))  # fmt: skip
        timings.append(("int_staffing_forecast's first call (imports, bound 3)", time.process_time() - began))
        for weeks in bounds:
            params = Params(
                staffing_interval_minutes=INTERVAL_MINUTES,
                forecast_horizon_days=14,
                forecast_history_weeks=weeks,
                reporting_timezone=ZONE,
            )
            began = time.process_time()
            staffing_forecast(inputs, params)
            timings.append((f"int_staffing_forecast, bound {weeks or 'none'}", time.process_time() - began))
        began = time.process_time()
        staffing_actuals(inputs, Params())
        timings.append(("int_staffing_actuals", time.process_time() - began))
    return timings


def stretch(warehouse: Path, copies: int) -> None:
    """`copies` earlier copies of the first 28 days of marts.mart_staffing_queue_intervals, in place."""
    with duckdb.connect(str(warehouse)) as con:
        table = "marts.mart_staffing_queue_intervals"
        ((first,),) = con.sql(f"select min(interval_start_utc) from {table}").fetchall()
        con.execute(
            f"create temp table original as select * from {table} "
            f"where interval_start_utc < timestamp '{first}' + interval 28 day"
        )
        for copy in range(1, copies + 1):
            shift = f"interval {28 * copy} day"
            con.execute(
                f"insert into {table} by name select * replace (interval_start_utc - {shift} as interval_start_utc, "
                f"interval_start_local - {shift} as interval_start_local, activity_date - {shift} as activity_date, "
                f"staffing_queue_interval_key || '-{copy}' as staffing_queue_interval_key) from original"
            )


def _bounds(text: str) -> list[int | None]:
    return [None if part == "all" else int(part) for part in text.split(",")]


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command == "accuracy" and 1 <= len(args) <= 4:
        bounds = _bounds(args[1]) if len(args) > 1 else [3, 4, 5, 6, 8, 12, None]
        minutes = int(args[3]) if len(args) > 3 else INTERVAL_MINUTES
        table = accuracy_by_bound(
            _series(Path(args[0]), minutes), bounds, int(args[2]) if len(args) > 2 else 4, minutes
        )
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    elif command == "time" and 1 <= len(args) <= 2:
        for name, seconds in time_bodies(Path(args[0]), _bounds(args[1]) if len(args) > 1 else [None]):
            print(f"{name}: {seconds:.2f} s CPU")
    elif command == "stretch" and len(args) == 2:
        stretch(Path(args[0]), int(args[1]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
