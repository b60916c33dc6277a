-- The forecast per voice queue and interval (var staffing_interval_minutes) for var forecast_horizon_days, with
-- the agents Erlang C needs for the queue's target and the heads to schedule (docs/staffing.md). Made in Python
-- by int_staffing_forecast (contact_warehouse/staffing); this model types and documents it.
select
    {{ dbt.hash("cast(interval_minutes as " ~ dbt.type_string() ~ ") || '|'
            || cast(interval_start_utc as " ~ dbt.type_string() ~ ") || '|' || queue") }}
        as staffing_forecast_key,
    cast(interval_minutes as integer) as interval_minutes,
    cast(interval_start_utc as timestamp) as interval_start_utc,
    cast(interval_start_local as timestamp) as interval_start_local,
    cast(interval_start_local as date) as activity_date,
    cast('voice' as {{ dbt.type_string() }}) as channel,
    cast(queue as {{ dbt.type_string() }}) as queue,
    cast(forecast_offered as {{ type_double() }}) as forecast_offered,
    cast(forecast_aht_seconds as {{ type_double() }}) as forecast_aht_seconds,
    cast(forecast_model as {{ dbt.type_string() }}) as forecast_model,
    cast(service_level_target as {{ type_double() }}) as service_level_target,
    cast(service_level_seconds as integer) as service_level_seconds,
    cast(max_occupancy as {{ type_double() }}) as max_occupancy,
    cast(shrinkage as {{ type_double() }}) as shrinkage,
    cast(required_agents as integer) as required_agents,
    cast(required_heads as integer) as required_heads,
    cast(expected_service_level as {{ type_double() }}) as expected_service_level,
    cast(expected_asa_seconds as {{ type_double() }}) as expected_asa_seconds,
    cast(expected_occupancy as {{ type_double() }}) as expected_occupancy,
    cast(beats_baseline as boolean) as beats_baseline,
    cast(chosen_wape as {{ type_double() }}) as backtest_wape
from {{ ref('int_staffing_forecast') }}
