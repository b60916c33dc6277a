-- Every ticket comment with its kind and the request (conversation turn) it belongs to (docs/domain.md
-- section 4, "Tickets"):
--   requester      a public comment of the requester (end-user)
--   agent_reply    a public comment of an agent: what the requester reads
--   internal_note  a private comment (public = false), whoever wrote it: never a reply
--   automatic      a public comment of the help desk itself (author system): an auto-reply, never a first reply
-- A request starts at the ticket's first requester or agent comment and at each requester comment that follows an
-- agent reply; the requester writing twice before an answer is one request. Notes and automatic messages belong
-- to the request under way when they were written.
-- Incremental by ticket (macros/incremental_tickets.sql): a ticket's rows depend on its own comments alone.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_tickets() }}",
) }}
with {{ tickets_to_build(ref('stg_tickets__messages')) }}
messages as (
    select * from {{ ref('stg_tickets__messages') }}
    {{ only_tickets_to_build('ticket_id') }}
),

kinds as (
    select
        *,
        case
            when not is_public then 'internal_note'
            when author_role = 'system' then 'automatic'
            when author_role = 'end-user' then 'requester'
            else 'agent_reply'
        end as message_kind
    from messages
),

turns as (
    select
        message_id,
        message_kind,
        lag(message_kind) over (partition by ticket_id order by sent_at, message_index) as previous_turn_kind
    from kinds
    where message_kind in ('requester', 'agent_reply')
),

starts as (
    select
        kinds.*,
        case
            when turns.message_id is null then 0
            when turns.previous_turn_kind is null then 1
            when turns.message_kind = 'requester' and turns.previous_turn_kind = 'agent_reply' then 1
            else 0
        end as is_request_start
    from kinds
    left join turns on kinds.message_id = turns.message_id
)

select
    message_id,
    ticket_id,
    message_index,
    sent_at,
    author_role,
    author_id,
    is_public,
    message_kind,
    message_text,
    is_request_start = 1 as is_request_start,
    -- A note written before the first turn belongs to the first request.
    cast(greatest(1, sum(is_request_start) over (
        partition by ticket_id order by sent_at, message_index rows between unbounded preceding and current row
    )) as integer) as request_number,
    _load_seq,
    {{ tickets_newest_load() }} as _newest_load_seq
from starts
