"""Features of both prediction tasks at every prediction time, with their labels (contact_warehouse/predictions)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from contact_warehouse.predictions import frames_from, prediction_rows

    interactions = dbt.ref("int_prediction_interactions").df()
    surveys = (
        dbt.ref("fct_survey_answers")
        .filter("is_valid_score and customer_key is not null")
        .project("customer_key, responded_at, survey_type, score")
        .df()
    )
    customers = dbt.ref("dim_customers").project("customer_key, customer_ref, value_tier, crm_created_at, churned_at")
    frames = frames_from(interactions, surveys, customers.df())
    return prediction_rows(frames, int(dbt.config.get("window_days")), int(dbt.config.get("horizon_days")))
