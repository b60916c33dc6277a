"""How many rows the prediction models learn from (issue 22): at most ``prediction_training_rows_max`` known rows
per task, a deterministic sample of whole customers chosen in SQL, so that the evaluation's and the scores' cost and
memory stop growing with the history and the customer count (docs/predictions.md "Training size").

The sample: each task's customers in the order of ``md5(customer_key)``, taken while their known rows add up to at
most the cap. md5 and not DuckDB's ``hash``: the order must not change with the DuckDB version, so that the same
customers are chosen night after night (only the last few move as their row counts change). Whole customers: a
customer's rows at consecutive prediction times share most of their features and often their outcome, so the
sample keeps them together (the bootstrap of ``brier_difference_interval`` resamples them whole). The sample is a
prefix of one fixed pseudo-random order, so it is a condition on the rows' own key (``md5(...) <= last chosen``):
a filter, not a join, which keeps the rows in the table's order.
"""

from __future__ import annotations

import duckdb

# The sample's order: NULL keys (rows of no known customer) are one group, as '' (never a real key: hex strings).
SAMPLE_KEY = "md5(coalesce(customer_key, ''))"


def sample_condition(known: duckdb.DuckDBPyRelation, max_rows: int | None) -> str:
    """A SQL condition on ``int_prediction_rows``' columns that keeps, of each task's rows in ``known`` (the rows
    whose outcome is known), those of the first customers in ``SAMPLE_KEY`` order whose rows add up to at most
    ``max_rows``: all of a task's rows when they are no more than that, none of a task's rows when its first
    customer alone has more. ``max_rows`` None: no cap (``true``)."""
    if max_rows is None:
        return "true"
    if max_rows < 1:
        raise ValueError(f"prediction_training_rows_max must be a positive number of rows, not {max_rows}")
    per_task = known.query(
        "known",
        f"""
        select model_name, sum(n) as total, max(h) filter (where running <= {int(max_rows)}) as last_chosen
        from (
            select model_name, h, n,
                sum(n) over (partition by model_name order by h rows between unbounded preceding and current row)
                    as running
            from (
                -- md5 once per customer, not per row (3M churn rows, 51k customers at 120 days)
                select model_name, {SAMPLE_KEY} as h, sum(n) as n
                from (select model_name, customer_key, count(*) as n from known group by model_name, customer_key)
                group by model_name, h
            )
        )
        group by model_name
        order by model_name
        """,
    ).fetchall()
    conditions = []
    for task, total, last_chosen in per_task:
        task_is = f"model_name = '{task}'"
        if total <= max_rows:
            conditions.append(task_is)
        elif last_chosen is not None:
            conditions.append(f"({task_is} and {SAMPLE_KEY} <= '{last_chosen}')")
    # A task without known rows keeps none; its rows of the last prediction time are read apart (rows_to_score).
    return "(" + " or ".join(conditions) + ")" if conditions else "false"
