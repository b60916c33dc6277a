-- The help desk's KPI counts per day, group, agent, intent and channel (docs/kpis.md "Tickets"): the rows the
-- semantic layer's ticket metrics sum (semantic model ticket_day) and mart_ticket_daily rolls up to weeks and
-- months. Each measure is dated by the event it counts: a ticket's creation (tickets, first replies, service
-- level), its latest solve (resolution time, replies, one-touch, reopens, requester wait). Durations are summed in
-- business minutes (the group's schedule) and calendar minutes.
with tickets as (
    select * from {{ ref('int_tickets_timed') }}
),

intents as (
    -- A ticket's intent is its first request's (the ticket's tags).
    select source_id as ticket_id, intent
    from {{ ref('int_transactions_enriched') }}
    where transaction_type = 'ticket_request' and transaction_id = 'ticket:' || source_id || ':1'
),

described as (
    select
        tickets.*,
        coalesce(tickets.group_name, 'none') as ticket_group,
        coalesce(tickets.assignee_id, 'none') as agent_id,
        coalesce(intents.intent, 'unknown') as ticket_intent,
        coalesce(tickets.via_channel, 'unknown') as ticket_channel,
        60 * case coalesce(tickets.priority, 'normal')
            {%- for priority, hours in var('ticket_first_reply_target_hours').items() %}
            when '{{ priority }}' then {{ hours }}
            {%- endfor %}
        end as target_business_minutes
    from tickets
    left join intents on tickets.ticket_id = intents.ticket_id
),

created as (
    select
        {{ reporting_date('created_at') }} as activity_date,
        ticket_group, agent_id, ticket_intent, ticket_channel,
        1 as tickets_created,
        case when first_reply_at is not null then 1 else 0 end as first_replied_tickets,
        coalesce(first_reply_business_minutes, 0) as first_reply_business_minutes_sum,
        coalesce(first_reply_calendar_minutes, 0) as first_reply_calendar_minutes_sum,
        -- Service level: judged once replied, or once the unanswered ticket is already past its target.
        case
            when first_reply_business_minutes <= target_business_minutes then 1
            else 0
        end as sla_met_tickets,
        case
            when first_reply_business_minutes is not null or unanswered_business_minutes > target_business_minutes
                then 1
            else 0
        end as sla_judged_tickets,
        0 as solved_tickets, 0 as resolution_business_minutes_sum, 0 as resolution_calendar_minutes_sum,
        0 as requester_wait_business_minutes_sum, 0 as requester_wait_calendar_minutes_sum,
        0 as solved_agent_replies, 0 as one_touch_tickets, 0 as reopened_tickets,
        0 as solved_tickets_with_history
    from described
),

solved as (
    select
        {{ reporting_date('solved_at') }} as activity_date,
        ticket_group, agent_id, ticket_intent, ticket_channel,
        0, 0, 0, 0, 0, 0,
        1,
        coalesce(resolution_business_minutes, 0),
        coalesce(resolution_calendar_minutes, 0),
        coalesce(requester_wait_business_minutes, 0),
        coalesce(requester_wait_calendar_minutes, 0),
        coalesce(agent_replies, 0),
        -- One touch: solved by an agent with a single public reply and never reopened.
        case when is_solved_by_agent and agent_replies = 1 and reopens = 0 then 1 else 0 end,
        case when reopens > 0 then 1 else 0 end,
        -- The denominator of the KPIs a ticket without exported history cannot tell (replies, one touch, reopens,
        -- requester wait): such a ticket is no data there, not a zero.
        case when history_exported then 1 else 0 end
    from described
    where solved_at is not null
),

daily as (
    select
        {{ dbt.hash("cast(activity_date as " ~ dbt.type_string() ~ ") || '|' || ticket_group || '|' || agent_id
            || '|' || ticket_intent || '|' || ticket_channel") }} as ticket_day_key,
        activity_date, ticket_group, agent_id, ticket_intent, ticket_channel,
        sum(tickets_created) as tickets_created,
        sum(first_replied_tickets) as first_replied_tickets,
        sum(first_reply_business_minutes_sum) as first_reply_business_minutes_sum,
        sum(first_reply_calendar_minutes_sum) as first_reply_calendar_minutes_sum,
        sum(sla_met_tickets) as sla_met_tickets,
        sum(sla_judged_tickets) as sla_judged_tickets,
        sum(solved_tickets) as solved_tickets,
        sum(resolution_business_minutes_sum) as resolution_business_minutes_sum,
        sum(resolution_calendar_minutes_sum) as resolution_calendar_minutes_sum,
        sum(requester_wait_business_minutes_sum) as requester_wait_business_minutes_sum,
        sum(requester_wait_calendar_minutes_sum) as requester_wait_calendar_minutes_sum,
        sum(solved_agent_replies) as solved_agent_replies,
        sum(one_touch_tickets) as one_touch_tickets,
        sum(reopened_tickets) as reopened_tickets,
        sum(solved_tickets_with_history) as solved_tickets_with_history
    from (
        select * from created
        union all
        select * from solved
    ) as measures
    group by activity_date, ticket_group, agent_id, ticket_intent, ticket_channel
)

select * from daily
