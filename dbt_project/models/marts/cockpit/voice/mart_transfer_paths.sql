-- Transfer paths per period: each transfer (a leg whose parent_call_id names the leg it came from) counted from
-- the parent leg's queue and agent to the new leg's queue, ranked within the period.
with legs as (
    select * from {{ ref('int_call_legs_chained') }}
),

transfers as (
    select
        {{ reporting_date('child.started_at') }} as activity_date,
        coalesce(parent.queue, 'none') as from_queue,
        coalesce(child.queue, 'none') as to_queue,
        1 as transfers
    from legs as child
    inner join legs as parent on child.parent_call_id = parent.call_id
),

daily as (
    select activity_date, from_queue, to_queue, sum(transfers) as transfers
    from transfers
    group by 1, 2, 3
),

rolled_up as (
    {{ period_rollup('daily', ['from_queue', 'to_queue'], ['transfers'], with_total=true) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || from_queue
            || '|' || to_queue") }}
        as transfer_path_key,
    rolled_up.*,
    from_queue || ' > ' || to_queue as transfer_path,
    rank() over (partition by period_grain, period_start order by transfers desc, from_queue, to_queue) as path_rank
from rolled_up
