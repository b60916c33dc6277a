-- Queue performance per period, channel, queue, agent and intent (docs/domain.md section 5):
--   ASA               = mean of answered_at - queued_at over ANSWERED calls (legs that queued and were answered);
--   abandonment rate  = calls abandoned in the queue / calls that entered the queue (IVR hang-ups never queued);
--   service level     = calls answered within the queue's service_level_seconds / calls that entered the queue
--                       (knowledge_base/queue_service_levels.csv, else var('service_level_seconds'));
--   AHT               = (talk + hold + wrap) / answered call legs and agent chats (chats: their agent part);
--   dead air          = answered calls whose silence_seconds exceed var('dead_air_seconds') / answered calls.
-- A leg is dated by when it entered the queue (else when it was answered).
with legs as (
    select
        legs.*,
        coalesce(transactions.intent, 'unknown') as intent,
        coalesce(targets.service_level_seconds, {{ var('service_level_seconds') }}) as queue_service_level_seconds
    from {{ ref('int_call_legs_chained') }} as legs
    left join {{ ref('fct_transactions') }} as transactions
        on transactions.transaction_id = 'call:' || legs.call_id
    left join {{ ref('int_queue_service_levels') }} as targets on legs.queue = targets.queue
    where legs.queued_at is not null or legs.answered_at is not null
),

voice_daily as (
    select
        {{ reporting_date('coalesce(queued_at, answered_at)') }} as activity_date,
        'voice' as channel,
        coalesce(queue, 'none') as queue,
        coalesce(agent_id, 'none') as agent_id,
        intent,
        sum(case when queued_at is not null then 1 else 0 end) as calls_entered_queue,
        sum(case when queued_at is not null and answered_at is not null then 1 else 0 end) as answered_calls,
        sum(
            case
                when queued_at is not null and answered_at is not null
                    then {{ seconds_between('queued_at', 'answered_at') }}
                else 0
            end
        ) as answer_seconds,
        sum(
            case
                when queued_at is not null and answered_at is not null
                    and {{ seconds_between('queued_at', 'answered_at') }} <= queue_service_level_seconds
                    then 1
                else 0
            end
        ) as answered_within_service_level,
        sum(case when queued_at is not null and answered_at is null and status = 'abandoned' then 1 else 0 end)
            as abandoned_calls,
        sum(case when answered_at is not null then 1 else 0 end) as handled_contacts,
        sum(
            case
                when answered_at is not null
                    then {{ leg_handle_seconds() }}
                else 0
            end
        ) as handle_seconds,
        sum(case when answered_at is not null then 1 else 0 end) as answered_legs,
        sum(case when answered_at is not null and silence_seconds > {{ var('dead_air_seconds') }} then 1 else 0 end)
            as dead_air_calls
    from legs
    group by 1, 2, 3, 4, 5
),

chat_daily as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        'chat' as channel,
        'chat' as queue,
        coalesce(agent_id, 'none') as agent_id,
        coalesce(intent, 'unknown') as intent,
        0 as calls_entered_queue,
        0 as answered_calls,
        0 as answer_seconds,
        0 as answered_within_service_level,
        0 as abandoned_calls,
        count(*) as handled_contacts,
        sum(coalesce(duration_seconds, 0)) as handle_seconds,
        0 as answered_legs,
        0 as dead_air_calls
    from {{ ref('fct_transactions') }}
    where transaction_type = 'chat_agent'
    group by 1, 2, 3, 4, 5
),

daily as (
    select * from voice_daily
    union all
    select * from chat_daily
),

rolled_up as (
    {{ period_rollup('daily', ['channel', 'queue', 'agent_id', 'intent'],
        ['calls_entered_queue', 'answered_calls', 'answer_seconds', 'answered_within_service_level',
         'abandoned_calls', 'handled_contacts', 'handle_seconds', 'answered_legs', 'dead_air_calls']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || channel || '|'
            || rolled_up.queue
        || '|' || agent_id || '|' || intent") }}
        as queue_performance_key,
    rolled_up.*,
    {{ metric_sql('asa_seconds') }} as asa_seconds,
    {{ metric_sql('abandonment_rate') }} as abandonment_rate,
    {{ metric_sql('service_level') }} as service_level,
    {{ metric_sql('aht_seconds') }} as aht_seconds,
    {{ metric_sql('dead_air_rate') }} as dead_air_rate,
    -- The queue's target, defined once in knowledge_base/queue_service_levels.csv (the report compares with it).
    targets.service_level_target,
    targets.service_level_seconds
from rolled_up
left join {{ ref('int_queue_service_levels') }} as targets on rolled_up.queue = targets.queue
