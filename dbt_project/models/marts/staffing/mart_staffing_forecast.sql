-- The forecast per voice queue and interval (var staffing_interval_minutes) for var forecast_horizon_days, with
-- the agents Erlang C needs for the queue's target and the heads to schedule (docs/staffing.md). Made in Python
-- by int_staffing_forecast (contact_warehouse/staffing); this model types it to its contract (the columns and
-- types of _staffing__models.yml) and documents it.
select
    {{ contract_columns({
        'staffing_forecast_key': dbt.hash(
            "cast(interval_minutes as " ~ dbt.type_string() ~ ") || '|' || cast(interval_start_utc as "
            ~ dbt.type_string() ~ ") || '|' || queue"
        ),
        'activity_date': 'interval_start_local',
        'channel': "'voice'",
        'backtest_wape': 'chosen_wape',
    }) }}
from {{ python_model_ref('int_staffing_forecast') }}
