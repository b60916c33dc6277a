"""Offered calls and AHT per queue and interval for the next var('forecast_horizon_days'), the model chosen by a
rolling-origin backtest against the weekly seasonal naive (its accuracy on every row), and the agents Erlang C
needs for the queue's target. The logic is the library's (contact_warehouse/staffing); this model only feeds it."""


def model(dbt, session):
    from contact_warehouse.staffing.forecast import accuracy_frame, forecast
    from contact_warehouse.staffing.plan import required_for_forecast

    dbt.config(materialized="table")
    minutes = int(dbt.config.meta_get("staffing_interval_minutes"))
    horizon_days = int(dbt.config.meta_get("forecast_horizon_days"))
    zone = dbt.config.meta_get("reporting_timezone")
    intervals = dbt.ref("mart_staffing_queue_intervals").filter(f"interval_minutes = {minutes}").df()
    targets = dbt.ref("int_queue_service_levels").df()
    future, accuracy = forecast(intervals, zone, minutes, horizon_days)
    planned = required_for_forecast(future, targets, minutes)
    planned.insert(0, "interval_minutes", minutes)
    return planned.merge(accuracy_frame(accuracy), on="queue", how="left")
