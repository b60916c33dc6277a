-- Calls and agents per reporting-zone interval (15 and 30 minutes) and queue (docs/staffing.md): the interval
-- mart's counts summed over intents, and the agents who handled the queue's calls in the interval. An agent is
-- busy on a call from its answer to its end plus wrap-up; the busy time is split over the intervals it overlaps.
-- agents_handling counts the agents busy at some point of the interval: the exports record no log-in time, so
-- an agent waiting for a call all interval is not seen, and occupancy (busy seconds / agents_handling x interval
-- length) is an upper bound of the true occupancy. Overlapping calls of one agent count the agent busy once.
{% set interval_lengths = [15, 30] %}

with offered as (
    select
        interval_minutes,
        interval_start_utc,
        channel,
        queue,
        max(service_level_seconds) as service_level_seconds,
        cast(sum(offered_contacts) as bigint) as offered_contacts,
        cast(sum(answered_contacts) as bigint) as answered_contacts,
        cast(sum(abandoned_contacts) as bigint) as abandoned_contacts,
        cast(sum(answered_within_service_level) as bigint) as answered_within_service_level,
        cast(sum(answer_seconds) as bigint) as answer_seconds,
        cast(sum(handle_seconds) as bigint) as handle_seconds
    from {{ ref('mart_staffing_intervals') }}
    group by interval_minutes, interval_start_utc, channel, queue
),

busy_legs as (
    select
        agent_id,
        queue,
        answered_at as busy_from,
        {{ dbt.dateadd('second', 'coalesce(wrap_seconds, 0)', 'coalesce(ended_at, answered_at)') }} as busy_until
    from {{ ref('int_call_legs_chained') }}
    -- Outbound legs (no queue) are work too, but of no queue: their agents' time is not this queue's.
    where answered_at is not null and agent_id is not null and queue is not null
),

-- 0..99: the intervals after a call's first one (a call with wrap-up longer than 99 intervals is cut there).
digits as (
    {%- for digit in range(10) %}
    select {{ digit }} as digit{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

steps as (
    select tens.digit * 10 + units.digit as step from digits as tens cross join digits as units
),

busy_intervals as (
    {%- for minutes in interval_lengths %}
    select
        {{ minutes }} as interval_minutes,
        busy_legs.agent_id,
        busy_legs.queue,
        busy_legs.busy_from,
        busy_legs.busy_until,
        {{ dbt.dateadd(
            'minute', 'steps.step * ' ~ minutes, reporting_interval_start_utc('busy_legs.busy_from', minutes)
        ) }}
            as interval_start_utc
    from busy_legs
    -- Only the steps the busy time reaches, and one more (agent_busy keeps the exact ones): an inequality join
    -- instead of 100 rows per leg and length, one sixth of the CPU for the same rows.
    inner join steps
        on steps.step * {{ minutes }} <= {{ dbt.datediff(
            reporting_interval_start_utc('busy_legs.busy_from', minutes), 'busy_legs.busy_until', 'minute'
        ) }} + {{ minutes }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

agent_busy as (
    select
        interval_minutes,
        interval_start_utc,
        queue,
        agent_id,
        sum(
            {{ seconds_between(
                'case when busy_from > interval_start_utc then busy_from else interval_start_utc end',
                'case when busy_until < ' ~ dbt.dateadd('minute', 'interval_minutes', 'interval_start_utc')
                ~ ' then busy_until else ' ~ dbt.dateadd('minute', 'interval_minutes', 'interval_start_utc') ~ ' end'
            ) }}
        ) as busy_seconds
    from busy_intervals
    where interval_start_utc < busy_until
        or (interval_start_utc <= busy_from and busy_from = busy_until)
    group by interval_minutes, interval_start_utc, queue, agent_id
),

agents as (
    -- An agent's calls can overlap in the exports (a call answered during the previous one's wrap-up): one
    -- agent is never busy longer than the interval.
    select
        interval_minutes,
        interval_start_utc,
        'voice' as channel,
        queue,
        count(*) as agents_handling,
        cast(sum(
            case when busy_seconds > interval_minutes * 60 then interval_minutes * 60 else busy_seconds end
        ) as bigint) as busy_seconds
    from agent_busy
    group by interval_minutes, interval_start_utc, queue
),

joined as (
    select
        coalesce(offered.interval_minutes, agents.interval_minutes) as interval_minutes,
        coalesce(offered.interval_start_utc, agents.interval_start_utc) as interval_start_utc,
        coalesce(offered.channel, agents.channel) as channel,
        coalesce(offered.queue, agents.queue) as queue,
        offered.service_level_seconds,
        coalesce(offered.offered_contacts, 0) as offered_contacts,
        coalesce(offered.answered_contacts, 0) as answered_contacts,
        coalesce(offered.abandoned_contacts, 0) as abandoned_contacts,
        coalesce(offered.answered_within_service_level, 0) as answered_within_service_level,
        coalesce(offered.answer_seconds, 0) as answer_seconds,
        coalesce(offered.handle_seconds, 0) as handle_seconds,
        coalesce(agents.agents_handling, 0) as agents_handling,
        coalesce(agents.busy_seconds, 0) as busy_seconds
    from offered
    full outer join agents
        on offered.interval_minutes = agents.interval_minutes
        and offered.interval_start_utc = agents.interval_start_utc
        and offered.queue = agents.queue
)

select
    {{ dbt.hash("cast(joined.interval_minutes as " ~ dbt.type_string() ~ ") || '|'
            || cast(joined.interval_start_utc as " ~ dbt.type_string() ~ ")
        || '|' || joined.channel || '|' || joined.queue") }}
        as staffing_queue_interval_key,
    joined.interval_minutes,
    joined.interval_start_utc,
    {{ reporting_timestamp('joined.interval_start_utc') }} as interval_start_local,
    {{ reporting_date('joined.interval_start_utc') }} as activity_date,
    joined.channel,
    joined.queue,
    coalesce(joined.service_level_seconds, targets.service_level_seconds, {{ var('service_level_seconds') }})
        as service_level_seconds,
    joined.offered_contacts,
    joined.answered_contacts,
    joined.abandoned_contacts,
    joined.answered_within_service_level,
    joined.answer_seconds,
    joined.handle_seconds,
    joined.agents_handling,
    joined.busy_seconds,
    -- The semantic layer's metrics (macro metric_sql) over this mart's names for the same counts.
    {{ metric_sql('service_level', relation='joined', columns=staffing_metric_columns('joined')) }} as service_level,
    {{ metric_sql('abandonment_rate', relation='joined', columns=staffing_metric_columns('joined')) }}
        as abandonment_rate,
    {{ metric_sql('asa_seconds', relation='joined', columns=staffing_metric_columns('joined')) }} as asa_seconds,
    {{ metric_sql('aht_seconds', relation='joined', columns=staffing_metric_columns('joined')) }} as aht_seconds,
    {{ safe_ratio('joined.busy_seconds', '(joined.agents_handling * joined.interval_minutes * 60)') }} as occupancy
from joined
left join {{ ref('int_queue_service_levels') }} as targets on joined.queue = targets.queue
