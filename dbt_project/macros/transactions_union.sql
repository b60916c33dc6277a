{#- The union of int_transactions_unioned (the view) and of int_transactions_enriched's nightly run, where
    `filtered` restricts each source to the units being built (macros/incremental_transactions.sql). -#}
{% macro transactions_union(filtered=false) -%}

with ivr_events as (
    select * from {{ ref('stg_phone_system__ivr_events') }}
    {{- transactions_unit_filter('call_id', 'units_ivr_calls' if filtered else none) }}
),

legs as (
    select * from {{ ref('int_call_legs_chained') }}
    {{- transactions_unit_filter('root_call_id', 'units_roots' if filtered else none) }}
),

-- Does the export report resolution at all? Then an unanswered leg is known not to have resolved anything.
resolution_reported as (
    select
        (select count(is_resolved) from {{ ref('stg_phone_system__calls') }}) > 0 as calls_report_resolution,
        (select count(is_resolved) from {{ ref('stg_chat__conversations') }}) > 0 as chats_report_resolution
),

-- One row per call with IVR events, aggregated before the join with its leg (call_id is the leg's key, so the
-- join adds one root per call): the IVR events are read and grouped once, not joined event by event.
ivr_calls as (
    select
        call_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        max(case when event_type = 'self_service_complete' then 1 else 0 end) = 1 as is_contained,
        max(case when event_type = 'to_queue' then 1 else 0 end) = 1 as is_to_queue
    from ivr_events
    group by call_id
),

ivr as (
    select
        'ivr:' || ivr_calls.call_id as transaction_id,
        'ivr' as transaction_type,
        ivr_calls.call_id as source_id,
        'ivr' as channel,
        'call:' || coalesce(legs.root_call_id, ivr_calls.call_id) as contact_id,
        'call_leg' as record_type,
        coalesce(legs.root_call_id, ivr_calls.call_id) as record_id,
        ivr_calls.started_at,
        ivr_calls.ended_at,
        ivr_calls.is_contained as is_resolved,
        case
            when ivr_calls.is_contained then 'contained'
            when ivr_calls.is_to_queue then 'to_queue'
            else 'dropped'
        end as outcome,
        false as is_assisted,
        cast(null as {{ dbt.type_string() }}) as queue,
        cast(null as {{ dbt.type_string() }}) as agent_id,
        'inbound' as direction,
        'customer' as initiated_by,
        true as is_resolution_known
    from ivr_calls
    left join legs on ivr_calls.call_id = legs.call_id
),

call_legs as (
    select
        'call:' || legs.call_id as transaction_id,
        'call_leg' as transaction_type,
        legs.call_id as source_id,
        'voice' as channel,
        'call:' || legs.root_call_id as contact_id,
        'call_leg' as record_type,
        legs.root_call_id as record_id,
        coalesce(legs.queued_at, legs.started_at) as started_at,
        coalesce(legs.ended_at, legs.answered_at, legs.queued_at, legs.started_at) as ended_at,
        coalesce(legs.is_resolved, false) as is_resolved,
        case
            when legs.answered_at is not null and legs.transfers_out > 0 then 'transferred'
            when legs.answered_at is not null then 'answered'
            else legs.status
        end as outcome,
        true as is_assisted,
        legs.queue,
        legs.agent_id,
        legs.direction,
        case when legs.root_direction = 'outbound' then 'agent' else 'customer' end as initiated_by,
        resolution_reported.calls_report_resolution and (legs.is_resolved is not null or legs.answered_at is null)
            as is_resolution_known
    from legs
    cross join resolution_reported
    left join ivr_calls on legs.call_id = ivr_calls.call_id
    -- An inbound leg that never queued nor reached an agent is all IVR: the IVR transaction covers it.
    where legs.direction = 'outbound'
        or legs.queued_at is not null
        or legs.answered_at is not null
        or ivr_calls.call_id is null
),

last_messages as (
    {%- if filtered %}
    select * from ({{ chat_last_messages() }}) as every_conversation
    {{- transactions_unit_filter('conversation_id', 'units_conversations') }}
    {%- else %}
    {{ chat_last_messages() }}
    {%- endif %}
),

conversations as (
    select
        conversations.*,
        last_messages.last_message_at
    from {{ ref('stg_chat__conversations') }} as conversations
    left join last_messages on conversations.conversation_id = last_messages.conversation_id
    {{- transactions_unit_filter('conversations.conversation_id', 'units_conversations' if filtered else none) }}
),

chat_bot as (
    select
        'chat_bot:' || conversation_id as transaction_id,
        'chat_bot' as transaction_type,
        conversation_id as source_id,
        'chat' as channel,
        'chat:' || conversation_id as contact_id,
        'chat' as record_type,
        conversation_id as record_id,
        created_at as started_at,
        coalesce(bot_handed_over_at, closed_at, last_message_at, created_at) as ended_at,
        agent_id is null and coalesce(is_resolved, false) as is_resolved,
        case when agent_id is null then 'bot_only' else 'handed_over' end as outcome,
        false as is_assisted,
        cast(null as {{ dbt.type_string() }}) as queue,
        cast(null as {{ dbt.type_string() }}) as agent_id,
        'inbound' as direction,
        'customer' as initiated_by,
        resolution_reported.chats_report_resolution and (agent_id is not null or is_resolved is not null)
            as is_resolution_known
    from conversations
    cross join resolution_reported
    where agent_id is null or bot_handed_over_at is not null or bot_intent is not null
),

chat_agent as (
    select
        'chat_agent:' || conversation_id as transaction_id,
        'chat_agent' as transaction_type,
        conversation_id as source_id,
        'chat' as channel,
        'chat:' || conversation_id as contact_id,
        'chat' as record_type,
        conversation_id as record_id,
        coalesce(bot_handed_over_at, created_at) as started_at,
        coalesce(closed_at, last_message_at, bot_handed_over_at, created_at) as ended_at,
        coalesce(is_resolved, false) as is_resolved,
        'agent' as outcome,
        true as is_assisted,
        cast(null as {{ dbt.type_string() }}) as queue,
        agent_id,
        'inbound' as direction,
        'customer' as initiated_by,
        is_resolved is not null as is_resolution_known
    from conversations
    where agent_id is not null
),

sms_messages as (
    select
        *,
        {{ reporting_date('sent_at') }} as sent_day,  -- the reporting zone's day, not UTC's
        first_value(message_id) over (
            partition by thread_id order by sent_at, message_id
            rows between unbounded preceding and unbounded following
        ) as first_message_id,
        row_number() over (
            partition by thread_id, {{ reporting_date('sent_at') }} order by sent_at, message_id
        ) as message_of_day
    from {{ ref('stg_phone_system__sms_messages') }}
    {{- transactions_unit_filter('thread_id', 'units_threads' if filtered else none) }}
),

sms as (
    select
        'sms:' || thread_id || ':' || cast(cast(sent_day as date) as {{ dbt.type_string() }}) as transaction_id,
        'sms_thread_day' as transaction_type,
        thread_id as source_id,
        'sms' as channel,
        'sms:' || thread_id || ':' || cast(cast(sent_day as date) as {{ dbt.type_string() }}) as contact_id,
        'sms' as record_type,
        min(first_message_id) as record_id,
        min(sent_at) as started_at,
        max(sent_at) as ended_at,
        false as is_resolved,
        case
            when max(case when direction = 'inbound' then 1 else 0 end) = 1 then 'conversation' else 'outbound_only'
        end as outcome,
        true as is_assisted,
        cast(null as {{ dbt.type_string() }}) as queue,
        min(agent_id) as agent_id,
        case when min(case when direction = 'inbound' then 0 else 1 end) = 0 then 'inbound' else 'outbound' end
            as direction,
        max(
            case
                when message_of_day > 1 then null
                when direction = 'inbound' then 'customer'
                when agent_id is not null then 'agent'
                else 'automated'
            end
        ) as initiated_by,
        true as is_resolution_known
    from sms_messages
    group by thread_id, sent_day
),

faq_views as (
    select * from {{ ref('int_faq_visits_sessionized') }}
    {{- transactions_unit_filter('visit_id', 'units_visits' if filtered else none) }}
),

faq as (
    select
        'faq:' || visit_id as transaction_id,
        'faq_visit' as transaction_type,
        visit_id as source_id,
        'faq' as channel,
        'faq:' || visit_id as contact_id,
        'faq_view' as record_type,
        visit_id as record_id,
        min(viewed_at) as started_at,
        max({{ dbt.dateadd('second', 'coalesce(seconds_on_page, 0)', 'viewed_at') }}) as ended_at,
        max(case when vote = 'up' then 1 else 0 end) = 1 as is_resolved,
        case
            when max(case when vote = 'up' then 1 else 0 end) = 1 then 'voted_up'
            when max(case when vote = 'down' then 1 else 0 end) = 1 then 'voted_down'
            else 'no_vote'
        end as outcome,
        false as is_assisted,
        cast(null as {{ dbt.type_string() }}) as queue,
        cast(null as {{ dbt.type_string() }}) as agent_id,
        'inbound' as direction,
        'customer' as initiated_by,
        true as is_resolution_known
    from faq_views
    group by visit_id
),

forms as (
    select
        'form:' || response_id as transaction_id,
        'form' as transaction_type,
        response_id as source_id,
        'form' as channel,
        'form:' || response_id as contact_id,
        'form' as record_type,
        response_id as record_id,
        submitted_at as started_at,
        submitted_at as ended_at,
        false as is_resolved,
        'submitted' as outcome,
        true as is_assisted,
        cast(null as {{ dbt.type_string() }}) as queue,
        cast(null as {{ dbt.type_string() }}) as agent_id,
        'inbound' as direction,
        'customer' as initiated_by,
        true as is_resolution_known
    from {{ ref('stg_forms__submissions') }}
    {{- transactions_unit_filter('response_id', 'units_forms' if filtered else none) }}
),

tickets as (
    select
        'ticket:' || request_id as transaction_id,
        'ticket_request' as transaction_type,
        ticket_id as source_id,
        'email' as channel,
        'ticket:' || request_id as contact_id,
        'ticket' as record_type,
        ticket_id as record_id,
        started_at,
        ended_at,
        is_resolved,
        outcome,
        true as is_assisted,
        group_name as queue,
        agent_id,
        case when initiated_by = 'customer' then 'inbound' else 'outbound' end as direction,
        initiated_by,
        is_resolution_known
    from {{ ref('int_ticket_requests_segmented') }}
    {{- transactions_unit_filter('ticket_id', 'units_tickets' if filtered else none) }}
)

select * from ivr
union all select * from call_legs
union all select * from chat_bot
union all select * from chat_agent
union all select * from sms
union all select * from faq
union all select * from forms
union all select * from tickets
{%- endmacro %}
