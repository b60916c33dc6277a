"""Per open engagement at the data's end: the probability of another contact on the same problem.
The logic is contact_warehouse/predictions', wired once in contact_warehouse/engine/python_models.py, which the
Python step also runs on the other engines."""


def model(dbt, session):
    from contact_warehouse.engine.duckdb_settings import release_cache
    from contact_warehouse.engine.python_models import Params, repeat_contact_predictions

    dbt.config(materialized="table")
    release_cache(session)  # DuckDB's cached blocks freed before the frames (engine/duckdb_settings.py)
    inputs = {"int_prediction_rows": dbt.ref("int_prediction_rows")}
    return repeat_contact_predictions(inputs, Params.from_dbt_config(dbt.config.get("prediction_params")))
