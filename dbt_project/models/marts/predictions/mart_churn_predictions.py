"""Per CRM customer not churned at the data's end: the probability of churn within the horizon."""


def model(dbt, session):
    dbt.config(materialized="table")
    from contact_warehouse.predictions import CHURN, scores

    return scores(dbt.ref("int_prediction_rows").df(), CHURN)
