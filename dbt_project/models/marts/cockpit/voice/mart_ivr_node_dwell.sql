-- Per period and IVR node: visits, mean dwell (from entering the node to the call's next menu, or to its last
-- IVR event; int_ivr_node_visits, incremental by call), and drop-offs (calls that hung up or gave no input and
-- ended the IVR at that node).
with visits as (
    select node, event_at, dwell_seconds from {{ ref('int_ivr_node_visits') }}
),

drops as (
    select dropped_at_node as node, started_at
    from {{ ref('mart_ivr_calls') }}
    where outcome = 'dropped' and dropped_at_node is not null
),

daily as (
    select activity_date, node, sum(visits) as visits, sum(dwell_seconds) as dwell_seconds,
        sum(drop_offs) as drop_offs
    from (
        select {{ reporting_date('event_at') }} as activity_date, node, 1 as visits, dwell_seconds, 0 as drop_offs
        from visits
        union all
        select {{ reporting_date('started_at') }}, node, 0, 0, 1 from drops
    ) as unioned
    group by 1, 2
),

rolled_up as (
    {{ period_rollup('daily', ['node'], ['visits', 'dwell_seconds', 'drop_offs']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|'
            || node") }} as node_dwell_key,
    rolled_up.*,
    {{ safe_ratio('dwell_seconds', 'visits') }} as mean_dwell_seconds,
    {{ safe_ratio('drop_offs', 'visits') }} as drop_off_rate
from rolled_up
