-- mart_queue_performance's day rows, the grain of the semantic model queue_day: MetricFlow re-sums day rows for any
-- period and slice (queue, agent, channel, intent), and a semantic model cannot leave out the mart's week and month
-- rows itself. A view in the `semantic` schema: it adds no figure of its own and is not published (the serving
-- file has the same rows as mart_queue_performance_day).
{{ config(materialized='view', schema='semantic') }}

select
    queue_performance_key,
    period_start as activity_date,
    channel,
    queue,
    agent_id,
    intent,
    calls_entered_queue,
    answered_calls,
    answer_seconds,
    answered_within_service_level,
    abandoned_calls,
    handled_contacts,
    handle_seconds,
    answered_legs,
    dead_air_calls
from {{ ref('mart_queue_performance') }}
where period_grain = 'day'
