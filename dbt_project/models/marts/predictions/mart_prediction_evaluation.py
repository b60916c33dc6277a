"""Each prediction model beside its baseline on the later, held-out period: ROC AUC and Brier score."""


def model(dbt, session):
    dbt.config(materialized="table")
    from contact_warehouse.predictions import CHURN, REPEAT_CONTACT, evaluation

    horizons = {REPEAT_CONTACT: int(dbt.config.get("window_days")), CHURN: int(dbt.config.get("horizon_days"))}
    return evaluation(dbt.ref("int_prediction_rows").df(), horizons)[0]
