"""The training cap (issue 22, dbt var prediction_training_rows_max): the models that train on int_prediction_rows
read at most that many known rows per task, of whole customers, the same customers whatever the table's order, and
still score every row of the data's end. Synthetic rows in an in-memory DuckDB: no warehouse build."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from contact_warehouse.engine.python_models import (
    Params,
    churn_predictions,
    prediction_evaluation_and_calibration,
    repeat_contact_predictions,
)
from contact_warehouse.engine.python_steps import params_from_vars
from contact_warehouse.predictions import CHURN, REPEAT_CONTACT, ROW_COLUMNS, rows_to_evaluate, rows_to_score, typed
from contact_warehouse.settings import DBT_PROJECT_DIR

CUSTOMERS, DAYS, HORIZON = 60, 20, 3
START = pd.Timestamp("2026-10-01")


def synthetic_rows() -> pd.DataFrame:
    """Both tasks over ``DAYS`` daily prediction times and a last time at the data's end: churn one row per customer
    per time, repeat contact a varying number of engagements per customer (so customers weigh differently), three
    rows of no known customer (NULL key); labels learnable from ``contacts_30d``."""
    rng = np.random.default_rng(3)
    rows = []
    times = [START + pd.Timedelta(days=d) for d in range(DAYS)] + [START + pd.Timedelta(days=DAYS - 1, hours=9)]
    end = times[-1]
    for task, horizon in ((REPEAT_CONTACT, 2), (CHURN, HORIZON)):
        for t in times:
            for c in range(CUSTOMERS):
                for e in range((c % 4) + 1 if task == REPEAT_CONTACT else 1):
                    contacts = float(rng.integers(0, 7))
                    rows.append(
                        {
                            "model_name": task,
                            "snapshot_at": t,
                            "horizon_days": horizon,
                            "engagement_id": f"E{c}-{e}" if task == REPEAT_CONTACT else None,
                            "customer_key": None if (c == 0 and task == REPEAT_CONTACT) else f"k{c:03d}",
                            "customer_ref": f"C{c}" if task == CHURN else None,
                            "intent": "billing_question" if task == REPEAT_CONTACT else None,
                            "contacts_30d": contacts,
                            "contacts_7d": float(rng.integers(0, 3)),
                            "label": bool(rng.random() < 0.1 + 0.12 * contacts),
                            "label_known": t + pd.Timedelta(days=horizon) <= end,
                        }
                    )
    return typed(pd.DataFrame(rows), ROW_COLUMNS)


@pytest.fixture(scope="module")
def table() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    frame = synthetic_rows()
    con.register("frame", frame)
    con.execute("create table int_prediction_rows as select * from frame")
    # The same rows in another order: the sample must not depend on it.
    con.execute("create table shuffled as select * from frame order by md5(engagement_id || snapshot_at::varchar)")
    yield con
    con.close()


def known_rows_per_customer(con: duckdb.DuckDBPyConnection, task: str) -> dict[str | None, int]:
    return dict(
        con.sql(
            f"select customer_key, count(*) from int_prediction_rows where model_name = '{task}' and label_known "
            "group by customer_key"
        ).fetchall()
    )


def expected_sample(per_customer: dict[str | None, int], cap: int) -> set[str | None]:
    """The customers in md5 order of their key (NULL as '') while their rows add up to at most ``cap``: computed
    here in Python, apart from the library's SQL."""
    chosen, total = set(), 0
    for key in sorted(per_customer, key=lambda k: hashlib.md5((k or "").encode()).hexdigest()):
        if total + per_customer[key] > cap:
            break
        chosen.add(key)
        total += per_customer[key]
    return chosen


def sampled(con: duckdb.DuckDBPyConnection, table_name: str, task: str, cap: int | None) -> pd.DataFrame:
    """The known rows of ``task`` the sample keeps, with their customer (``rows_to_evaluate`` and ``rows_to_score``
    filter by the same condition but do not read the keys of past rows)."""
    from contact_warehouse.predictions.training import sample_condition

    known = con.table(table_name).filter(f"model_name = '{task}' and label_known")
    return known.filter(sample_condition(known, cap)).project("customer_key, snapshot_at").df()


@pytest.mark.parametrize("task", [REPEAT_CONTACT, CHURN])
@pytest.mark.parametrize("cap", [1, 37, 200, 555])
def test_the_cap_keeps_whole_customers_in_a_fixed_order(table, task, cap) -> None:
    per_customer = known_rows_per_customer(table, task)
    want = expected_sample(per_customer, cap)
    for name in ("int_prediction_rows", "shuffled"):
        got = sampled(table, name, task, cap)
        assert len(got) <= cap
        assert set(got["customer_key"].astype(object).where(got["customer_key"].notna(), None)) == want
        # Whole customers: every known row of each chosen customer.
        assert len(got) == sum(per_customer[k] for k in want)
    # The next customer in the order would not fit: as many customers as the cap allows, not fewer.
    assert sum(per_customer.values()) > cap


def test_the_next_night_draws_from_the_same_customers(table) -> None:
    """Night after night the sample is a prefix of the same order: when the known rows change (here the first
    prediction time falls out of the history and some customers gain rows), one night's customers contain the
    other's, so the models keep learning from the same people."""
    table.execute(
        "create or replace table next_night as select * from int_prediction_rows where snapshot_at > "
        f"'{START}' union all select * from int_prediction_rows where customer_key in ('k007', 'k011') "
        "and label_known"
    )
    changed = []
    for task in (REPEAT_CONTACT, CHURN):
        for cap in (150, 400, 700):
            tonight = set(sampled(table, "int_prediction_rows", task, cap)["customer_key"].dropna())
            tomorrow = set(sampled(table, "next_night", task, cap)["customer_key"].dropna())
            assert tonight and (tonight <= tomorrow or tomorrow <= tonight)
            changed += [tonight != tomorrow]
    assert any(changed)  # not vacuous: some samples did move


def test_the_evaluation_and_the_scores_read_at_most_the_cap(table) -> None:
    relation = table.table("int_prediction_rows")
    read = rows_to_evaluate(relation, 200)
    expected = {}
    for task in (REPEAT_CONTACT, CHURN):
        per_customer = known_rows_per_customer(table, task)
        expected[task] = sum(per_customer[k] for k in expected_sample(per_customer, 200))
    assert read.groupby("model_name").size().to_dict() == expected
    for task in (REPEAT_CONTACT, CHURN):
        uncapped = rows_to_score(relation, task)
        capped = rows_to_score(relation, task, 200)
        assert capped["label_known"].sum() <= 200 < uncapped["label_known"].sum()
        # Every row of the data's end is still read, with its keys: the cap limits training, not who is scored.
        now = uncapped["snapshot_at"].max()
        pd.testing.assert_frame_equal(
            capped[capped["snapshot_at"] == now].reset_index(drop=True),
            uncapped[uncapped["snapshot_at"] == now].reset_index(drop=True),
        )


def test_a_cap_above_the_rows_changes_nothing(table) -> None:
    relation = table.table("int_prediction_rows")
    pd.testing.assert_frame_equal(rows_to_evaluate(relation, 10**9), rows_to_evaluate(relation), check_exact=True)
    for task in (REPEAT_CONTACT, CHURN):
        pd.testing.assert_frame_equal(rows_to_score(relation, task, 10**9), rows_to_score(relation, task))


def test_the_models_train_on_the_capped_sample_and_score_everyone(table) -> None:
    """Through the bodies dbt and the Python step call: the evaluation's and the scores' training rows are those of
    the sample, deterministic run after run, and every customer of the data's end is scored."""
    inputs = {"int_prediction_rows": table.table("int_prediction_rows")}
    capped = Params(engagement_window_days=2, churn_horizon_days=HORIZON, prediction_training_rows_max=300)
    uncapped = Params(engagement_window_days=2, churn_horizon_days=HORIZON)
    evaluated = prediction_evaluation_and_calibration(inputs, capped)
    pd.testing.assert_frame_equal(evaluated, prediction_evaluation_and_calibration(inputs, capped), check_exact=True)
    per_task = evaluated[evaluated["record"] == "evaluation"].groupby("model_name").first()
    for task in (REPEAT_CONTACT, CHURN):
        assert per_task.loc[task, "status"] == "evaluated"
        assert 0 < per_task.loc[task, "training_rows"] + per_task.loc[task, "evaluation_rows"] <= 300
    for body in (repeat_contact_predictions, churn_predictions):
        got, full = body(inputs, capped), body(inputs, uncapped)
        assert (got["training_rows"] <= 300).all() and (full["training_rows"] > 300).all()
        assert len(got) == len(full) > 0
        pd.testing.assert_frame_equal(got, body(inputs, capped), check_exact=True)


def test_a_cap_below_one_row_is_refused(table) -> None:
    with pytest.raises(ValueError, match="prediction_training_rows_max"):
        rows_to_evaluate(table.table("int_prediction_rows"), 0)


def test_the_var_reaches_every_model_that_trains() -> None:
    """Declared once in dbt_project.yml, passed by the YAML of each dbt model that trains (a model whose config
    lacked it would silently train on everything), and read by the Python step off DuckDB."""
    declared = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["prediction_training_rows_max"]
    assert params_from_vars().prediction_training_rows_max == declared > 0
    configs = {}
    for path in Path(DBT_PROJECT_DIR / "models").rglob("_*predictions__models.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            configs[model["name"]] = model.get("config", {}).get("prediction_params", {})
    for name in ("int_prediction_evaluation", "mart_churn_predictions", "mart_repeat_contact_predictions"):
        assert configs[name]["training_rows_max"] == "{{ var('prediction_training_rows_max') }}", name
    rendered = {**configs["mart_churn_predictions"], "window_days": 7, "horizon_days": 30, "history_days": 90}
    assert Params.from_dbt_config({**rendered, "training_rows_max": "1234"}).prediction_training_rows_max == 1234
