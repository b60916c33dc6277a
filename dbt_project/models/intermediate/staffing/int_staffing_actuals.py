"""Every interval that happened (mart_staffing_queue_intervals, 15 and 30 minutes) with the agents Erlang C needed
for its offered calls and AHT at the queue's target, and the service level it expected from the agents who
handled calls there. The logic is the library's (contact_warehouse/staffing/plan.py), wired once in
contact_warehouse/engine/python_models.py, which the Python step also runs on the other engines.

Incremental by interval (issue 22): a row's result depends on its own inputs only (contact_warehouse/staffing/
actuals.py), so a nightly run computes the intervals whose input fingerprint has no row yet; the strategy
'staffing_interval_changes' (macros/incremental_staffing.sql) replaces those rows and deletes the intervals that
no longer exist. The table equals a full recompute row for row."""


def model(dbt, session):
    from contact_warehouse.engine.duckdb_settings import release_cache
    from contact_warehouse.engine.python_models import Params, staffing_actuals

    dbt.config(materialized="incremental", incremental_strategy="staffing_interval_changes")
    release_cache(session)  # DuckDB's cached blocks freed before the frames (engine/duckdb_settings.py)
    inputs = {
        "mart_staffing_queue_intervals": dbt.ref("mart_staffing_queue_intervals"),
        "int_queue_service_levels": dbt.ref("int_queue_service_levels"),
    }
    params = Params(staffing_fallback_aht_days=int(dbt.config.meta_get("staffing_fallback_aht_days")))
    return staffing_actuals(inputs, params, str(dbt.this) if dbt.is_incremental else None)
