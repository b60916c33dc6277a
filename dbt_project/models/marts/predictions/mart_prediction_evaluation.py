"""Each prediction model beside its baseline on the later, held-out period: ROC AUC and Brier score.
Selected from int_prediction_evaluation (the models fitted once for both marts); the logic is
contact_warehouse/predictions', wired once in contact_warehouse/engine/python_models.py, which the
Python step also runs on the other engines."""


def model(dbt, session):
    from contact_warehouse.engine.duckdb_settings import release_cache
    from contact_warehouse.engine.python_models import Params, prediction_evaluation

    dbt.config(materialized="table")
    release_cache(session)  # DuckDB's cached blocks freed before the frames (engine/duckdb_settings.py)
    inputs = {"int_prediction_evaluation": dbt.ref("int_prediction_evaluation")}
    return prediction_evaluation(inputs, Params.from_dbt_config(dbt.config.get("prediction_params")))
