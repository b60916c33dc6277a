"""Each prediction model beside its baseline on the later, held-out period: ROC AUC and Brier score.
The logic is contact_warehouse/predictions', wired once in contact_warehouse/engine/python_models.py, which the
Python step also runs on the other engines."""


def model(dbt, session):
    from contact_warehouse.engine.python_models import Params, prediction_evaluation

    dbt.config(materialized="table")
    inputs = {"int_prediction_rows": dbt.ref("int_prediction_rows")}
    params = Params(
        engagement_window_days=int(dbt.config.get("window_days")),
        churn_horizon_days=int(dbt.config.get("horizon_days")),
    )
    return prediction_evaluation(inputs, params)
