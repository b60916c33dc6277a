"""Offered calls and AHT per queue and interval for the next var('forecast_horizon_days'), the model chosen by a
rolling-origin backtest against the weekly seasonal naive (its accuracy on every row), and the agents Erlang C
needs for the queue's target, learnt from the last var('forecast_history_weeks') weeks. The logic is the library's
(contact_warehouse/staffing), wired once in contact_warehouse/engine/python_models.py, which the Python step also
runs on the other engines."""


def model(dbt, session):
    from contact_warehouse.engine.duckdb_settings import release_cache
    from contact_warehouse.engine.python_models import Params, staffing_forecast

    dbt.config(materialized="table")
    release_cache(session)  # DuckDB's cached blocks freed before the frames (engine/duckdb_settings.py)
    inputs = {
        "mart_staffing_queue_intervals": dbt.ref("mart_staffing_queue_intervals"),
        "int_queue_service_levels": dbt.ref("int_queue_service_levels"),
    }
    params = Params(
        staffing_interval_minutes=int(dbt.config.meta_get("staffing_interval_minutes")),
        forecast_horizon_days=int(dbt.config.meta_get("forecast_horizon_days")),
        forecast_history_weeks=int(dbt.config.meta_get("forecast_history_weeks")),
        reporting_timezone=dbt.config.meta_get("reporting_timezone"),
    )
    return staffing_forecast(inputs, params)
