"""Features of both prediction tasks at every prediction time, with their labels (contact_warehouse/predictions,
wired once in contact_warehouse/engine/python_models.py, which the Python step also runs on the other engines).

Incremental (issue 22): a nightly run computes the new prediction times and the customers whose earlier inputs
changed, keeps last night's other rows (contact_warehouse/predictions/incremental.py) and returns only the change
set: rows to insert or replace, rows to delete, fingerprints to set. The strategy 'prediction_changes'
(macros/incremental_prediction_changes.sql) applies it inside the table in one transaction; the table equals a full
recompute row for row. --full-refresh computes everything, by batches of customers (bounded memory; the result is
then an Arrow reader whose batches are computed as dbt-duckdb writes the table: predictions/batched.py)."""


def model(dbt, session):
    from contact_warehouse.engine.duckdb_settings import python_model_memory_limit, release_cache
    from contact_warehouse.engine.python_models import Params, prediction_rows
    from contact_warehouse.predictions.logs import forwarded_to_dbt

    dbt.config(materialized="incremental", incremental_strategy="prediction_changes")
    # DuckDB's cached blocks freed before the frames, and its limit lowered while they are held and the rows written
    # (engine/duckdb_settings.py); the post-hook (the models' YAML: restore_memory_limit) sets it back.
    release_cache(session, python_model_memory_limit())
    inputs = {
        "int_prediction_interactions": dbt.ref("int_prediction_interactions"),
        "fct_survey_answers": dbt.ref("fct_survey_answers"),
        "dim_customers": dbt.ref("dim_customers"),
    }
    previous = str(dbt.this) if dbt.is_incremental else None
    # The run says in dbt's log whether it was incremental or full, why, and how much it recomputed.
    with forwarded_to_dbt():
        rows = prediction_rows(inputs, Params.from_dbt_config(dbt.config.get("prediction_params")), session, previous)
    return rows
