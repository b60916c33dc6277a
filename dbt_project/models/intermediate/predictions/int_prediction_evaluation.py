"""Each prediction model and its baseline trained before a cut-off and evaluated after it: the rows of
mart_prediction_evaluation and of mart_prediction_calibration in one table, so that the models are fitted once for
both (issue 22). The logic is contact_warehouse/predictions', wired once in contact_warehouse/engine/python_models.py,
which the Python step also runs on the other engines."""


def model(dbt, session):
    from contact_warehouse.engine.duckdb_settings import release_cache
    from contact_warehouse.engine.python_models import Params, prediction_evaluation_and_calibration

    dbt.config(materialized="table")
    release_cache(session)  # DuckDB's cached blocks freed before the frames (engine/duckdb_settings.py)
    inputs = {"int_prediction_rows": dbt.ref("int_prediction_rows")}
    return prediction_evaluation_and_calibration(inputs, Params.from_dbt_config(dbt.config.get("prediction_params")))
