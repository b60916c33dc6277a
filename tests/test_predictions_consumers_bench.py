"""The cost probe of the models that read int_prediction_rows (``bench consumers``, issue 22): the stretched table it
measures on holds what int_prediction_rows would hold on a longer history at the same daily volume."""

from __future__ import annotations

import duckdb
import pandas as pd

from contact_warehouse.predictions.bench import stretched_rows


def _source(con: duckdb.DuckDBPyConnection) -> None:
    # Three days of prediction times (the last one the data's end, not a midnight), one engagement and one customer.
    times = ["2026-01-01 00:00:00", "2026-01-02 00:00:00", "2026-01-03 06:30:00"]
    rows = pd.DataFrame(
        {
            "model_name": ["repeat_contact"] * 3 + ["churn"] * 3,
            "snapshot_at": pd.to_datetime(times * 2),
            "horizon_days": [1] * 3 + [30] * 3,
            "engagement_id": ["e1"] * 3 + [None] * 3,
            "customer_key": ["c1"] * 6,
            "label": [True, False, False] * 2,
            "label_known": [True, False, False] * 2,
        }
    )
    con.register("frame", rows)
    con.execute("create table source as select * from frame")


def test_stretched_rows_repeat_the_times_shift_them_by_whole_days_and_bound_the_history() -> None:
    con = duckdb.connect()
    _source(con)
    stretched_rows(con, "source", "rows", copies=4, history_days=5)
    out = con.sql("select * from rows order by model_name, snapshot_at").df()
    # Copies 3 days apart, up to 2026-01-12 06:30; the times of the last 5 days (after 2026-01-07 06:30) kept.
    repeat = out[out["model_name"] == "repeat_contact"]
    assert list(repeat["snapshot_at"].astype(str)) == [
        "2026-01-08 00:00:00",
        "2026-01-09 06:30:00",
        "2026-01-10 00:00:00",
        "2026-01-11 00:00:00",
        "2026-01-12 06:30:00",
    ]
    # Each copy's engagements are distinct; a row's label is known when its horizon ended by the last time.
    assert list(repeat["engagement_id"]) == ["e1#2", "e1#2", "e1#3", "e1#3", "e1#3"]
    assert list(repeat["label_known"]) == [True, True, True, True, False]
    assert not out.loc[out["model_name"] == "churn", "label_known"].any()  # a 30-day horizon is still open
    assert list(out.columns) == list(con.sql("select * from source").columns)
