-- The most common IVR node paths per period, with how the calls on each path ended; rank 1 = most calls.
with daily as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        node_path,
        count(*) as ivr_calls,
        sum(case when is_contained then 1 else 0 end) as contained_calls,
        sum(case when outcome = 'dropped' then 1 else 0 end) as dropped_calls,
        sum(case when outcome = 'to_queue' then 1 else 0 end) as queued_calls
    from {{ ref('mart_ivr_calls') }}
    group by 1, 2
),

rolled_up as (
    {{ period_rollup('daily', ['node_path'], ['ivr_calls', 'contained_calls', 'dropped_calls', 'queued_calls'],
        with_total=true) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|'
            || node_path") }} as ivr_path_key,
    rolled_up.*,
    rank() over (partition by period_grain, period_start order by ivr_calls desc, node_path) as path_rank
from rolled_up
