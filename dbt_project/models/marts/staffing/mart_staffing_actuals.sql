-- Every voice queue interval that happened (15 and 30 minutes) against Erlang C (docs/staffing.md): the agents its
-- offered calls and AHT needed for the queue's target, the agents who handled calls there, the gap, and the
-- service level Erlang C expected from those agents beside the one achieved. Computed in Python by
-- int_staffing_actuals (contact_warehouse/staffing).
select
    cast(staffing_queue_interval_key as {{ dbt.type_string() }}) as staffing_queue_interval_key,
    cast(interval_minutes as integer) as interval_minutes,
    cast(interval_start_utc as timestamp) as interval_start_utc,
    cast(interval_start_local as timestamp) as interval_start_local,
    cast(activity_date as date) as activity_date,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(queue as {{ dbt.type_string() }}) as queue,
    cast(offered_contacts as bigint) as offered_contacts,
    cast(answered_contacts as bigint) as answered_contacts,
    cast(answered_within_service_level as bigint) as answered_within_service_level,
    cast(service_level as {{ type_double() }}) as service_level,
    cast(service_level_target as {{ type_double() }}) as service_level_target,
    cast(service_level_seconds as integer) as service_level_seconds,
    cast(aht_seconds as {{ type_double() }}) as aht_seconds,
    cast(planning_aht_seconds as {{ type_double() }}) as planning_aht_seconds,
    cast(agents_handling as bigint) as agents_handling,
    cast(occupancy as {{ type_double() }}) as occupancy,
    cast(required_agents as integer) as required_agents,
    cast(required_heads as integer) as required_heads,
    cast(staffing_gap as integer) as staffing_gap,
    case
        when staffing_gap < 0 then 'under'
        when staffing_gap > 0 then 'over'
        when staffing_gap = 0 then 'matched'
    end as staffing_status,
    cast(expected_service_level as {{ type_double() }}) as expected_service_level_at_required,
    cast(service_level_at_actual_agents as {{ type_double() }}) as expected_service_level_at_actual
from {{ python_model_ref('int_staffing_actuals') }}
