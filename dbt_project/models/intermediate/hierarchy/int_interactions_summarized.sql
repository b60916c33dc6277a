-- One row per interaction: its channels in order, its intent and whether (and how) it resolved the problem.
-- Intent: the first mapped intent among its transactions in time wins; 'unmapped' if its codes map to
-- nothing; 'unknown' if it carries no code at all (a text thread alone).
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_customers() }}",
    post_hook=["{{ forget_stale_customers() }}", "{{ record_rebuilt_customers() }}"],
) }}
with transactions as (
    select
        *,
        lag(channel) over (partition by interaction_id order by started_at, transaction_id) as previous_channel
    from {{ ref('int_interactions_sessionized') }}
    {{ customers_to_rebuild('customer_key') }}
),

intent_ranked as (
    select
        interaction_id,
        intent,
        intent_code_id,
        row_number() over (
            partition by interaction_id
            order by
                case when intent is null then 2 when intent = 'unmapped' then 1 else 0 end,
                started_at,
                transaction_id
        ) as intent_rank
    from transactions
),

resolution_ranked as (
    select
        interaction_id,
        ended_at as resolved_at,
        case transaction_type
            when 'ivr' then 'ivr_self_service'
            when 'call_leg' then 'agent_call'
            when 'chat_bot' then 'chat_bot'
            when 'chat_agent' then 'chat_agent'
            when 'faq_visit' then 'faq_vote_up'
            when 'ticket_request' then 'ticket_solved'
            else transaction_type
        end as resolution_method,
        row_number() over (partition by interaction_id order by ended_at desc, transaction_id desc) as resolution_rank
    from transactions
    where is_resolved
),

agents as (
    select
        interaction_id,
        agent_id,
        queue,
        row_number() over (partition by interaction_id order by started_at desc, transaction_id desc) as agent_rank
    from transactions
    -- The agent who handled the customer: a leg that rang or was dialled but never answered had nobody on it.
    where agent_id is not null
        and not (transaction_type = 'call_leg' and outcome not in ('answered', 'transferred'))
),

summarized as (
    select
        interaction_id,
        min(customer_key) as customer_key,
        min(_input_fingerprint) as _input_fingerprint,
        min(started_at) as started_at,
        max(ended_at) as ended_at,
        count(*) as transactions_count,
        count(distinct channel) as channels_count,
        {{ ordered_path("case when previous_channel is null or previous_channel <> channel then channel end",
                        "started_at, transaction_id") }} as channel_path,
        sum(coalesce(duration_seconds, 0)) / cast(60 as {{ type_double() }}) as effort_minutes,
        max(case when is_assisted then 1 else 0 end) = 1 as is_assisted,
        -- The customer got in touch in this session (not only the company: a callback, a reminder text).
        max(case when initiated_by = 'customer' then 1 else 0 end) = 1 as is_customer_initiated,
        -- Whether it solved the problem is known: it did, or every transaction says whether it did.
        max(case when is_resolved then 1 else 0 end) = 1
            or min(case when is_resolution_known then 1 else 0 end) = 1 as is_resolution_known,
        max(case when transaction_type = 'call_leg' and direction = 'outbound' then 1 else 0 end) = 1
            and min(case when transaction_type = 'call_leg' and direction = 'outbound' then 1 else 0 end) = 1
            as is_outbound_only,
        max(case when transaction_type = 'ivr' and outcome = 'contained' then 1 else 0 end) = 1 as is_ivr_contained,
        max(case when transaction_type = 'chat_bot' and outcome = 'bot_only' then 1 else 0 end) = 1
            as is_bot_only_chat,
        max(case when transaction_type = 'faq_visit' then 1 else 0 end) = 1 as has_faq_visit
    from transactions
    group by interaction_id
),

first_transactions as (
    select
        interaction_id,
        channel,
        row_number() over (partition by interaction_id order by started_at, transaction_id) as first_rank,
        row_number() over (partition by interaction_id order by started_at desc, transaction_id desc) as last_rank
    from transactions
)

select
    summarized.*,
    first_channel.channel as first_channel,
    last_channel.channel as last_channel,
    coalesce(intent_ranked.intent, 'unknown') as intent,
    intent_ranked.intent_code_id,
    resolution_ranked.interaction_id is not null as is_resolved,
    resolution_ranked.resolution_method,
    resolution_ranked.resolved_at,
    agents.agent_id as last_agent_id,
    agents.queue as last_queue
from summarized
left join first_transactions as first_channel
    on summarized.interaction_id = first_channel.interaction_id and first_channel.first_rank = 1
left join first_transactions as last_channel
    on summarized.interaction_id = last_channel.interaction_id and last_channel.last_rank = 1
left join intent_ranked
    on summarized.interaction_id = intent_ranked.interaction_id and intent_ranked.intent_rank = 1
left join resolution_ranked
    on summarized.interaction_id = resolution_ranked.interaction_id and resolution_ranked.resolution_rank = 1
left join agents on summarized.interaction_id = agents.interaction_id and agents.agent_rank = 1
