"""Per open engagement at the data's end: the probability of another contact on the same problem."""


def model(dbt, session):
    dbt.config(materialized="table")
    from contact_warehouse.predictions import REPEAT_CONTACT, scores

    return scores(dbt.ref("int_prediction_rows").df(), REPEAT_CONTACT)
