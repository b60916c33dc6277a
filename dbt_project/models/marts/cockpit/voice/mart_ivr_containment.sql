-- IVR containment per period and intent: calls completed in self-service / calls entering the IVR; true
-- containment also leaves out contained calls followed by an assisted contact within deflection_window_hours.
with daily as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        intent,
        count(*) as ivr_calls,
        sum(case when is_contained then 1 else 0 end) as contained_calls,
        sum(case when is_truly_contained then 1 else 0 end) as truly_contained_calls,
        sum(case when outcome = 'dropped' then 1 else 0 end) as dropped_calls,
        sum(case when outcome = 'to_queue' then 1 else 0 end) as queued_calls,
        sum(menu_seconds) as menu_seconds
    from {{ ref('mart_ivr_calls') }}
    group by 1, 2
),

rolled_up as (
    {{ period_rollup('daily', ['intent'],
        ['ivr_calls', 'contained_calls', 'truly_contained_calls', 'dropped_calls', 'queued_calls', 'menu_seconds']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|'
            || intent") }} as containment_key,
    rolled_up.*,
    {{ safe_ratio('contained_calls', 'ivr_calls') }} as containment_rate,
    {{ safe_ratio('truly_contained_calls', 'ivr_calls') }} as true_containment_rate,
    {{ safe_ratio('dropped_calls', 'ivr_calls') }} as drop_off_rate,
    {{ safe_ratio('menu_seconds', 'ivr_calls') }} as mean_menu_seconds
from rolled_up
