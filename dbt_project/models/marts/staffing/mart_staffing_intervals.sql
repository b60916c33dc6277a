-- Calls per reporting-zone interval (15 and 30 minutes), queue and intent, for staffing (docs/staffing.md). A call
-- leg is counted in the interval it entered the queue; a transferred call that queues again is offered again to
-- its second queue (workload arrives per leg, as a workforce-management tool counts it). Measures are additive
-- counts and totals, so any interval, queue or intent roll-up recomputes its rates exactly:
--   service level = answered within the queue's service_level_seconds / offered (entered the queue);
--   ASA = answer seconds / answered; AHT = (talk + hold + wrap) / answered; abandonment = abandoned / offered.
{% set interval_lengths = [15, 30] %}

with legs as (
    select
        legs.call_id,
        coalesce(legs.queue, 'none') as queue,
        legs.queued_at,
        legs.answered_at,
        legs.ended_at,
        legs.hold_seconds,
        legs.wrap_seconds,
        legs.status,
        coalesce(transactions.intent, 'unknown') as intent,
        coalesce(targets.service_level_seconds, {{ var('service_level_seconds') }}) as service_level_seconds
    from {{ ref('int_call_legs_chained') }} as legs
    left join {{ ref('fct_transactions') }} as transactions
        on transactions.transaction_id = 'call:' || legs.call_id
    left join {{ ref('int_queue_service_levels') }} as targets on legs.queue = targets.queue
    where legs.queued_at is not null
),

measured as (
    select
        *,
        case when answered_at is not null then {{ seconds_between('queued_at', 'answered_at') }} end
            as answer_seconds,
        case
            when answered_at is not null
                then {{ leg_handle_seconds() }}
        end as handle_seconds
    from legs
),

intervals as (
    {%- for minutes in interval_lengths %}
    select
        {{ minutes }} as interval_minutes,
        {{ reporting_interval_start_utc('queued_at', minutes) }} as interval_start_utc,
        *
    from measured
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

counted as (
    select
        interval_minutes,
        interval_start_utc,
        'voice' as channel,
        queue,
        intent,
        max(service_level_seconds) as service_level_seconds,
        cast(count(*) as bigint) as offered_contacts,
        cast(sum(case when answered_at is not null then 1 else 0 end) as bigint) as answered_contacts,
        cast(sum(case when answered_at is null and status = 'abandoned' then 1 else 0 end) as bigint)
            as abandoned_contacts,
        cast(sum(case when answer_seconds <= service_level_seconds then 1 else 0 end) as bigint)
            as answered_within_service_level,
        cast(sum(coalesce(answer_seconds, 0)) as bigint) as answer_seconds,
        cast(sum(coalesce(handle_seconds, 0)) as bigint) as handle_seconds
    from intervals
    group by interval_minutes, interval_start_utc, queue, intent
)

select
    {{ dbt.hash("cast(interval_minutes as " ~ dbt.type_string() ~ ") || '|'
            || cast(interval_start_utc as " ~ dbt.type_string() ~ ") || '|' || channel
        || '|' || queue || '|' || intent") }}
        as staffing_interval_key,
    interval_minutes,
    interval_start_utc,
    {{ reporting_timestamp('interval_start_utc') }} as interval_start_local,
    {{ reporting_date('interval_start_utc') }} as activity_date,
    channel,
    queue,
    intent,
    service_level_seconds,
    offered_contacts,
    answered_contacts,
    abandoned_contacts,
    answered_within_service_level,
    answer_seconds,
    handle_seconds,
    -- The semantic layer's metrics (macro metric_sql) over this mart's names for the same counts.
    {{ metric_sql('service_level', columns=staffing_metric_columns()) }} as service_level,
    {{ metric_sql('abandonment_rate', columns=staffing_metric_columns()) }} as abandonment_rate,
    {{ metric_sql('asa_seconds', columns=staffing_metric_columns()) }} as asa_seconds,
    {{ metric_sql('aht_seconds', columns=staffing_metric_columns()) }} as aht_seconds
from counted
