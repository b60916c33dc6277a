-- Level 1: one row per atomic event, pointing to its transaction (docs/domain.md section 4): IVR events, call-leg
-- milestones (queued, answered, transferred, ended), text and chat messages, FAQ views, form submissions and
-- survey answers (those matched to the contact they rate).
-- Incremental by customer (macros/incremental_events.sql): the pre-hook deletes the customers whose events changed,
-- and each source is read only for the transactions of the customers left without rows; the post-hooks drop the
-- pre-hook's temporary table and record the customers built (built_customers).
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_event_customers() }}",
    post_hook=[
        "{{ drop_event_customer_tables() }}",
        "{{ forget_stale_customers('int_engagement_fingerprints') }}",
        "{{ record_rebuilt_customers('int_engagement_fingerprints') }}",
    ],
) }}
-- depends_on: {{ ref('stg_phone_system__calls') }}
with transactions as (
    -- Every transaction, or on an incremental run those of the customers left without rows, with the fingerprint
    -- (transactions and matched survey answers) the customer's events are built from.
    select
        transactions.transaction_id,
        transactions.transaction_type,
        transactions.source_id,
        transactions.customer_key,
        transactions.started_at,
        {{ event_fingerprint('fingerprints.input_fingerprint') }} as input_fingerprint
    from {{ ref('fct_transactions') }} as transactions
    left join {{ ref('int_engagement_fingerprints') }} as fingerprints
        on transactions.customer_key = fingerprints.customer_key
    {{ event_customers_to_rebuild('transactions.customer_key') }}
),

legs as (
    select * from {{ ref('int_call_legs_chained') }}
    {{ only_rebuilt('call_id', ['ivr', 'call_leg']) }}
),

leg_parents as (
    -- A leg's milestones belong to its queue-and-agent transaction, or to the IVR part for an IVR-only leg.
    select
        legs.*,
        coalesce(call_tx.transaction_id, ivr_tx.transaction_id) as transaction_id
    from legs
    left join transactions as call_tx on call_tx.transaction_id = 'call:' || legs.call_id
    left join transactions as ivr_tx on ivr_tx.transaction_id = 'ivr:' || legs.call_id
),

ivr_events as (
    select
        'ivr:' || ivr_event_id as event_id,
        'ivr_' || event_type as event_type,
        'ivr' as channel,
        event_at as occurred_at,
        'ivr:' || call_id as transaction_id,
        node as detail,
        _load_seq
    from {{ ref('stg_phone_system__ivr_events') }}
    {{ only_rebuilt('call_id', ['ivr']) }}
),

call_milestones as (
    select 'call:' || call_id || ':queued' as event_id, 'call_queued' as event_type, 'voice' as channel,
        queued_at as occurred_at, transaction_id, queue as detail, _load_seq
    from leg_parents where queued_at is not null
    union all
    select 'call:' || call_id || ':answered', 'call_answered', 'voice', answered_at, transaction_id, agent_id,
        _load_seq
    from leg_parents where answered_at is not null
    union all
    select 'call:' || call_id || ':transferred', 'call_transferred', 'voice', first_transfer_at, transaction_id,
        cast(transfers_out as {{ dbt.type_string() }}), _load_seq
    from leg_parents where transfers_out > 0
    union all
    select 'call:' || call_id || ':ended', 'call_ended', 'voice', coalesce(ended_at, started_at), transaction_id,
        status, _load_seq
    from leg_parents
),

sms_events as (
    select
        'sms:' || message_id as event_id,
        'sms_' || direction as event_type,
        'sms' as channel,
        sent_at as occurred_at,
        'sms:' || thread_id || ':' || cast({{ reporting_date('sent_at') }} as {{ dbt.type_string() }})
            as transaction_id,
        status as detail,
        _load_seq
    from {{ ref('stg_phone_system__sms_messages') }}
    {{ only_rebuilt('thread_id', ['sms_thread_day']) }}
),

chat_parts as (
    select
        conversation_id,
        max(case when transaction_type = 'chat_bot' then transaction_id end) as bot_transaction_id,
        max(case when transaction_type = 'chat_agent' then transaction_id end) as agent_transaction_id,
        max(case when transaction_type = 'chat_agent' then started_at end) as agent_started_at
    from (
        select source_id as conversation_id, transaction_type, transaction_id, started_at
        from transactions
        where transaction_type in ('chat_bot', 'chat_agent')
    ) as chat_transactions
    group by conversation_id
),

chat_events as (
    select
        'chat:' || messages.message_id as event_id,
        'chat_message_' || messages.author as event_type,
        'chat' as channel,
        messages.sent_at as occurred_at,
        case
            when chat_parts.agent_transaction_id is null then chat_parts.bot_transaction_id
            when chat_parts.bot_transaction_id is null then chat_parts.agent_transaction_id
            when messages.author = 'agent' or messages.sent_at >= chat_parts.agent_started_at
                then chat_parts.agent_transaction_id
            else chat_parts.bot_transaction_id
        end as transaction_id,
        messages.author as detail,
        messages._load_seq
    from {{ ref('stg_chat__messages') }} as messages
    inner join chat_parts on messages.conversation_id = chat_parts.conversation_id
),

faq_events as (
    select
        'faq:' || view_id as event_id,
        'faq_view' as event_type,
        'faq' as channel,
        viewed_at as occurred_at,
        'faq:' || visit_id as transaction_id,
        article_id as detail,
        _load_seq
    from {{ ref('int_faq_visits_sessionized') }}
    {{ only_rebuilt('visit_id', ['faq_visit']) }}
),

form_events as (
    select
        'form:' || response_id as event_id,
        'form_submission' as event_type,
        'form' as channel,
        submitted_at as occurred_at,
        'form:' || response_id as transaction_id,
        form_id as detail,
        _load_seq
    from {{ ref('stg_forms__submissions') }}
    {{ only_rebuilt('response_id', ['form']) }}
),

ticket_requests as (
    select
        ticket_id,
        request_id,
        started_at,
        lead(started_at) over (partition by ticket_id order by request_number) as next_started_at,
        request_number
    from {{ ref('int_ticket_requests_segmented') }}
    {{ only_rebuilt('ticket_id', ['ticket_request']) }}
),

ticket_events as (
    -- Every comment of a ticket (the requester's, agents' replies and notes, automatic messages), in its request.
    select
        'ticket_message:' || message_id as event_id,
        'ticket_' || message_kind as event_type,
        'email' as channel,
        sent_at as occurred_at,
        'ticket:' || ticket_id || ':' || cast(request_number as {{ dbt.type_string() }}) as transaction_id,
        author_role as detail,
        _load_seq
    from {{ ref('int_ticket_messages_sequenced') }}
    {{ only_rebuilt('ticket_id', ['ticket_request']) }}
    union all
    -- Every status change, in the request under way (the first request for changes before any conversation).
    select
        'ticket_status:' || changes.status_change_id,
        'ticket_status_change',
        'email',
        changes.changed_at,
        'ticket:' || changes.ticket_id || ':'
                || cast(coalesce(max(requests.request_number), 1) as {{ dbt.type_string() }}),
        changes.status,
        changes._load_seq
    from {{ ref('stg_tickets__status_changes') }} as changes
    left join ticket_requests as requests
        on changes.ticket_id = requests.ticket_id and requests.started_at <= changes.changed_at
    {{ only_rebuilt('changes.ticket_id', ['ticket_request']) }}
    group by changes.status_change_id, changes.ticket_id, changes.changed_at, changes.status, changes._load_seq
),

survey_events as (
    select
        'survey:' || response_id as event_id,
        'survey_answer' as event_type,
        channel,
        responded_at as occurred_at,
        transaction_id,
        survey_type as detail,
        cast(null as {{ dbt.type_bigint() }}) as _load_seq
    from {{ ref('fct_survey_answers') }}
    where transaction_id is not null
    {%- if is_incremental() %}
        and transaction_id in (select transaction_id from transactions)
    {%- endif %}
),

unioned as (
    select * from ivr_events
    union all select * from call_milestones
    union all select * from sms_events
    union all select * from chat_events
    union all select * from faq_events
    union all select * from form_events
    union all select * from ticket_events
    union all select * from survey_events
)

select
    unioned.event_id,
    unioned.event_type,
    unioned.channel,
    unioned.occurred_at,
    unioned.transaction_id,
    transactions.customer_key,
    unioned.detail,
    unioned._load_seq,
    transactions.input_fingerprint as _input_fingerprint
from unioned
left join transactions on unioned.transaction_id = transactions.transaction_id
