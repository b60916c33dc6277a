-- One row per ticket with its durations in calendar and business minutes (docs/kpis.md "Tickets"):
--   first reply   creation -> the first public agent reply (an auto-reply or an internal note is no reply)
--   resolution    creation -> the latest solve, for a ticket solved or closed now
--   requester wait the time the ticket spent new, open or on hold (waiting for the help desk) before its latest
--                 solve, for a ticket solved or closed now
--   unanswered    creation -> its solve, or the data's end while unsolved, for a ticket without any agent reply
--                 (how late it already is, or was when solved unanswered)
-- A ticket whose export has no message or status history (history_exported false: a one-row-per-ticket report)
-- has no first reply, unanswered time, agent replies, reopens or requester wait: not known, not zero.
-- Business minutes count the overlap with the opening intervals of the ticket's group's schedule
-- (int_queue_schedules, else `default`); a duration outside the business calendar's days has none (NULL).
-- Incremental by ticket (macros/incremental_tickets.sql): the pre-hook deletes the tickets changed since the stored
-- rows were built, every row when the schedules or the business calendar changed (_global_inputs), and the tickets
-- still unanswered and unsolved (their unanswered time runs to the data's end, which every night moves); the model
-- then builds the tickets without rows.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_tickets(
        '_global_inputs <> ' ~ tickets_timed_global_inputs()
        ~ ' or (first_reply_at is null and history_exported and solved_at is null)') }}",
) }}
with {{ tickets_to_build(ref('stg_tickets__tickets')) }}

tickets as (
    select * from {{ ref('stg_tickets__tickets') }}
    {{ only_tickets_to_build('ticket_id') }}
),

messages as (
    select * from {{ ref('int_ticket_messages_sequenced') }}
    {{ only_tickets_to_build('ticket_id') }}
),

changes as (
    select
        *,
        lead(changed_at) over (partition by ticket_id order by change_index) as next_changed_at
    from {{ ref('stg_tickets__status_changes') }}
    {{ only_tickets_to_build('ticket_id') }}
),

replies as (
    select
        ticket_id,
        min(sent_at) as first_reply_at,
        count(*) as agent_replies
    from messages
    where message_kind = 'agent_reply'
    group by ticket_id
),

last_solves as (
    select
        ticket_id,
        max(case when status = 'solved' then changed_at end) as last_solved_at,
        max(case when status = 'solved' and coalesce(author_role, 'agent') <> 'system' then changed_at end)
            as last_agent_solved_at,
        sum(case when previous_status in ('solved', 'closed') and status not in ('solved', 'closed') then 1 else 0 end)
            as reopens
    from changes
    group by ticket_id
),

data_end as (
    -- The last moment the help desk's export knows of.
    select max(known_at) as data_end_at
    from (
        select max(sent_at) as known_at from {{ ref('int_ticket_messages_sequenced') }}
        union all
        select max(changed_at) from {{ ref('stg_tickets__status_changes') }}
    ) as moments
),

-- Solved is whatever the help desk says now; the solve to time to is the latest one.
timed as (
    select
        tickets.ticket_id,
        tickets.created_at,
        tickets.via_channel,
        tickets.priority,
        tickets.group_name,
        tickets.assignee_id,
        tickets.status,
        tickets.satisfaction_score,
        coalesce(schedules.schedule, 'default') as schedule,
        replies.first_reply_at,
        tickets.history_exported,
        case when tickets.history_exported then coalesce(replies.agent_replies, 0) end as agent_replies,
        case when tickets.history_exported then coalesce(solves.reopens, 0) end as reopens,
        tickets.status in ('solved', 'closed') as is_solved,
        case when tickets.status in ('solved', 'closed') then solves.last_solved_at end as solved_at,
        tickets.status in ('solved', 'closed')
            and solves.last_agent_solved_at is not null
            and solves.last_agent_solved_at = solves.last_solved_at as is_solved_by_agent
    from tickets
    left join {{ ref('int_queue_schedules') }} as schedules on tickets.group_name = schedules.queue
    left join replies on tickets.ticket_id = replies.ticket_id
    left join last_solves as solves on tickets.ticket_id = solves.ticket_id
),

spans as (
    select ticket_id, schedule, 'first_reply' as span_kind, created_at as span_start, first_reply_at as span_end
    from timed where first_reply_at is not null
    union all
    select ticket_id, schedule, 'resolution', created_at, solved_at
    from timed where solved_at is not null
    union all
    select timed.ticket_id, timed.schedule, 'unanswered', timed.created_at,
        coalesce(timed.solved_at, data_end.data_end_at)
    from timed
    cross join data_end
    where timed.first_reply_at is null and timed.history_exported
        and coalesce(timed.solved_at, data_end.data_end_at) > timed.created_at
    union all
    select timed.ticket_id, timed.schedule, 'requester_wait', changes.changed_at,
        least(coalesce(changes.next_changed_at, timed.solved_at), timed.solved_at)
    from timed
    inner join changes on timed.ticket_id = changes.ticket_id
    where timed.solved_at is not null and timed.history_exported and changes.status in ('new', 'open', 'hold')
        and changes.changed_at < timed.solved_at
),

calendar_range as (
    select min(opens_at) as calendar_start, max(closes_at) as calendar_end
    from {{ ref('int_business_hours_intervals') }}
),

span_seconds as (
    select
        spans.ticket_id,
        spans.span_kind,
        spans.span_start,
        spans.span_end,
        max({{ seconds_between('spans.span_start', 'spans.span_end') }}) as calendar_seconds,
        -- Outside the calendar's days the business time is not known.
        case
            when min(spans.span_start) < min(calendar_range.calendar_start)
                or max(spans.span_end) > max(calendar_range.calendar_end) then null
            else coalesce(sum({{ business_seconds('spans.span_start', 'spans.span_end', 'intervals') }}), 0)
        end as business_seconds
    from spans
    cross join calendar_range
    left join {{ ref('int_business_hours_intervals') }} as intervals
        on spans.schedule = intervals.schedule
        and intervals.opens_at < spans.span_end
        and intervals.closes_at > spans.span_start
    group by spans.ticket_id, spans.span_kind, spans.span_start, spans.span_end
),

per_ticket as (
    select
        ticket_id,
        sum(case when span_kind = 'first_reply' then calendar_seconds end) as first_reply_calendar_seconds,
        sum(case when span_kind = 'first_reply' then business_seconds end) as first_reply_business_seconds,
        sum(case when span_kind = 'resolution' then calendar_seconds end) as resolution_calendar_seconds,
        sum(case when span_kind = 'resolution' then business_seconds end) as resolution_business_seconds,
        sum(case when span_kind = 'requester_wait' then calendar_seconds end) as requester_wait_calendar_seconds,
        sum(case when span_kind = 'requester_wait' then business_seconds end) as requester_wait_business_seconds,
        sum(case when span_kind = 'unanswered' then business_seconds end) as unanswered_business_seconds
    from span_seconds
    group by ticket_id
)

select
    timed.*,
    per_ticket.first_reply_calendar_seconds / cast(60 as {{ type_double() }}) as first_reply_calendar_minutes,
    per_ticket.first_reply_business_seconds / cast(60 as {{ type_double() }}) as first_reply_business_minutes,
    per_ticket.resolution_calendar_seconds / cast(60 as {{ type_double() }}) as resolution_calendar_minutes,
    per_ticket.resolution_business_seconds / cast(60 as {{ type_double() }}) as resolution_business_minutes,
    per_ticket.requester_wait_calendar_seconds / cast(60 as {{ type_double() }}) as requester_wait_calendar_minutes,
    per_ticket.requester_wait_business_seconds / cast(60 as {{ type_double() }}) as requester_wait_business_minutes,
    per_ticket.unanswered_business_seconds / cast(60 as {{ type_double() }}) as unanswered_business_minutes,
    {{ tickets_newest_load() }} as _newest_load_seq,
    {{ tickets_timed_global_inputs() }} as _global_inputs
from timed
left join per_ticket on timed.ticket_id = per_ticket.ticket_id
