-- Level 2 for tickets: one row per request of a ticket (docs/domain.md section 4, "Tickets"). A ticket lasts
-- days; what the customer does in it is write, then wait. A request is one turn of the conversation: the
-- requester's message(s) and the agent replies that answer them, up to the requester's next message.
--   started_at / ended_at   the initiating side's messages (the customer's session: writing, not waiting)
--   first_reply_at          the first agent reply to it (an auto-reply or an internal note is no reply)
--   is_resolved             someone other than the help desk's automation set the ticket solved during the request
--                           (an agent, or the requester from the portal); an automation that solves a ticket
--                           left pending solves nothing
--   is_resolution_known     resolved, answered (the help desk's status says the reply did not solve it), followed
--                           by another request, or the ticket is solved or closed; only a request still waiting
--                           for its first answer at the data's end is "no data"
-- Incremental by ticket (macros/incremental_tickets.sql): a ticket's requests depend on its own row, comments and
-- status changes alone.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_tickets() }}",
) }}
-- A ticket whose comments are all notes or automatic messages has no request and no rows: it is built again every
-- night (a handful, each a few rows).
with {{ tickets_to_build(ref('int_ticket_messages_sequenced')) }}
messages as (
    select * from {{ ref('int_ticket_messages_sequenced') }}
    {{ only_tickets_to_build('ticket_id') }}
),

tickets as (
    select * from {{ ref('stg_tickets__tickets') }}
    {{ only_tickets_to_build('ticket_id') }}
),

requests as (
    select
        ticket_id,
        request_number,
        min(case when message_kind in ('requester', 'agent_reply') then sent_at end) as started_at,
        max(case when is_request_start then message_kind end) as opened_by,
        max(case when message_kind = 'requester' then sent_at end) as last_requester_at,
        min(case when message_kind = 'agent_reply' then sent_at end) as first_reply_at,
        max(case when message_kind = 'agent_reply' then sent_at end) as last_reply_at,
        sum(case when message_kind = 'agent_reply' then 1 else 0 end) as agent_replies,
        sum(case when message_kind = 'requester' then 1 else 0 end) as requester_messages
    from messages
    group by ticket_id, request_number
),

bounded as (
    select
        *,
        lead(started_at) over (partition by ticket_id order by request_number) as next_started_at
    from requests
    -- A ticket made only of notes and automatic messages has no conversation yet.
    where started_at is not null
),

replies as (
    select
        ticket_id,
        request_number,
        author_id,
        row_number() over (partition by ticket_id, request_number order by sent_at, message_index) as reply_rank
    from messages
    where message_kind = 'agent_reply'
),

status_changes as (
    select * from {{ ref('stg_tickets__status_changes') }}
    {{ only_tickets_to_build('ticket_id') }}
),

solves as (
    select
        bounded.ticket_id,
        bounded.request_number
    from bounded
    inner join status_changes as changes
        on bounded.ticket_id = changes.ticket_id
        and changes.status = 'solved'
        and coalesce(changes.author_role, 'agent') <> 'system'
        and changes.changed_at >= bounded.started_at
        and (bounded.next_started_at is null or changes.changed_at < bounded.next_started_at)
    group by bounded.ticket_id, bounded.request_number
)

select
    bounded.ticket_id || ':' || cast(bounded.request_number as {{ dbt.type_string() }}) as request_id,
    bounded.ticket_id,
    bounded.request_number,
    bounded.started_at,
    case when bounded.opened_by = 'requester' then bounded.last_requester_at else bounded.last_reply_at end
        as ended_at,
    case when bounded.opened_by = 'requester' then 'customer' else 'agent' end as initiated_by,
    bounded.first_reply_at,
    bounded.agent_replies,
    bounded.requester_messages,
    coalesce(replies.author_id, tickets.assignee_id) as agent_id,
    tickets.group_name,
    solves.ticket_id is not null as is_resolved,
    solves.ticket_id is not null
        or bounded.agent_replies > 0
        or bounded.next_started_at is not null
        or tickets.status in ('solved', 'closed') as is_resolution_known,
    case
        when solves.ticket_id is not null then 'solved'
        when bounded.agent_replies > 0 then 'answered'
        else 'unanswered'
    end as outcome,
    {{ tickets_newest_load() }} as _newest_load_seq
from bounded
inner join tickets on bounded.ticket_id = tickets.ticket_id
left join replies
    on bounded.ticket_id = replies.ticket_id and bounded.request_number = replies.request_number
    and replies.reply_rank = 1
left join solves on bounded.ticket_id = solves.ticket_id and bounded.request_number = solves.request_number
