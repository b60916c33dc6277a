"""Features of both prediction tasks at every prediction time, with their labels (contact_warehouse/predictions,
wired once in contact_warehouse/engine/python_models.py, which the Python step also runs on the other engines)."""


def model(dbt, session):
    from contact_warehouse.engine.python_models import Params, prediction_rows

    dbt.config(materialized="table")
    inputs = {
        "int_prediction_interactions": dbt.ref("int_prediction_interactions"),
        "fct_survey_answers": dbt.ref("fct_survey_answers"),
        "dim_customers": dbt.ref("dim_customers"),
    }
    return prediction_rows(inputs, Params.from_dbt_config(dbt.config.get("prediction_params")))
