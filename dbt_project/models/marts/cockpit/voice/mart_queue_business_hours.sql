-- Calls meet business hours (docs/kpis.md "Calls and business hours"), per period and queue: how many calls
-- entered the queue while it was closed (outside every opening interval of the queue's schedule: nights,
-- weekends, holidays), and the service level and ASA of the calls that arrived while it was open. A call is dated
-- and placed by when it entered the queue.
with legs as (
    select
        legs.*,
        coalesce(legs.queue, 'none') as queue_name,
        coalesce(schedules.schedule, 'default') as schedule
    from {{ ref('int_call_legs_chained') }} as legs
    left join {{ ref('int_queue_schedules') }} as schedules on legs.queue = schedules.queue
    where legs.queued_at is not null
),

placed as (
    select
        legs.call_id,
        max(case when intervals.interval_id is not null then 1 else 0 end) as is_in_hours
    from legs
    left join {{ ref('int_business_hours_intervals') }} as intervals
        on legs.schedule = intervals.schedule
        and legs.queued_at >= intervals.opens_at
        and legs.queued_at < intervals.closes_at
    group by legs.call_id
),

daily as (
    select
        {{ reporting_date('legs.queued_at') }} as activity_date,
        legs.queue_name as queue,
        count(*) as calls_entered_queue,
        sum(1 - placed.is_in_hours) as calls_outside_hours,
        sum(placed.is_in_hours) as calls_in_hours,
        sum(case when placed.is_in_hours = 1 and legs.answered_at is not null then 1 else 0 end)
            as answered_in_hours,
        sum(
            case
                when placed.is_in_hours = 1 and legs.answered_at is not null
                    then {{ seconds_between('legs.queued_at', 'legs.answered_at') }}
                else 0
            end
        ) as answer_seconds_in_hours,
        sum(
            case
                when placed.is_in_hours = 1 and legs.answered_at is not null
                    and {{ seconds_between('legs.queued_at', 'legs.answered_at') }}
                    <= {{ var('service_level_seconds') }}
                    then 1
                else 0
            end
        ) as answered_within_service_level_in_hours
    from legs
    inner join placed on legs.call_id = placed.call_id
    group by 1, 2
),

rolled_up as (
    {{ period_rollup('daily', ['queue'], [
        'calls_entered_queue', 'calls_outside_hours', 'calls_in_hours', 'answered_in_hours',
        'answer_seconds_in_hours', 'answered_within_service_level_in_hours']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|'
            || queue") }} as queue_hours_key,
    rolled_up.*,
    {{ safe_ratio('calls_outside_hours', 'calls_entered_queue') }} as outside_hours_share,
    {{ safe_ratio('answered_within_service_level_in_hours', 'calls_in_hours') }} as service_level_in_hours,
    {{ safe_ratio('answer_seconds_in_hours', 'answered_in_hours') }} as asa_in_hours_seconds
from rolled_up
