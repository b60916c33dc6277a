-- Help-desk KPIs per period, group, agent, intent and channel (docs/kpis.md "Tickets"): the daily counts of
-- int_ticket_days_counted rolled up to weeks and months, numerators and denominators as columns, and each rate
-- compiled from its semantic-layer metric (models/marts/semantic/_semantic__tickets.yml), not written here.
with daily as (
    select * from {{ ref('int_ticket_days_counted') }}
),

rolled_up as (
    {{ period_rollup('daily', ['ticket_group', 'agent_id', 'ticket_intent', 'ticket_channel'], [
        'tickets_created', 'first_replied_tickets', 'first_reply_business_minutes_sum:double',
        'first_reply_calendar_minutes_sum:double', 'sla_met_tickets', 'sla_judged_tickets', 'solved_tickets',
        'resolution_business_minutes_sum:double', 'resolution_calendar_minutes_sum:double',
        'requester_wait_business_minutes_sum:double', 'requester_wait_calendar_minutes_sum:double',
        'solved_agent_replies', 'one_touch_tickets', 'reopened_tickets', 'solved_tickets_with_history']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || ticket_group
            || '|' || agent_id
        || '|' || ticket_intent || '|' || ticket_channel") }} as ticket_daily_key,
    rolled_up.*,
    {{ metric_sql('first_reply_business_minutes') }} as first_reply_business_minutes,
    {{ metric_sql('first_reply_calendar_minutes') }} as first_reply_calendar_minutes,
    {{ metric_sql('sla_attainment_rate') }} as sla_attainment_rate,
    {{ metric_sql('resolution_business_minutes') }} as resolution_business_minutes,
    {{ metric_sql('resolution_calendar_minutes') }} as resolution_calendar_minutes,
    {{ metric_sql('requester_wait_business_minutes') }} as requester_wait_business_minutes,
    {{ metric_sql('requester_wait_calendar_minutes') }} as requester_wait_calendar_minutes,
    {{ metric_sql('agent_replies_per_ticket') }} as agent_replies_per_ticket,
    {{ metric_sql('one_touch_resolution_rate') }} as one_touch_resolution_rate,
    {{ metric_sql('reopen_rate') }} as reopen_rate
from rolled_up
