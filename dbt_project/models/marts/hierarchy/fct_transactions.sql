-- Level 2: one row per use of one system, pointing to its interaction.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_customers() }}",
    post_hook=["{{ forget_stale_customers() }}", "{{ record_rebuilt_customers() }}"],
) }}
select
    transactions.transaction_id,
    transactions.transaction_type,
    transactions.channel,
    transactions.source_id,
    transactions.contact_id,
    transactions.interaction_id,
    transactions.customer_key,
    transactions.started_at,
    transactions.ended_at,
    transactions.duration_seconds,
    transactions.intent,
    transactions.intent_code_id,
    -- The transaction's own intent, else its interaction's: how the cockpit compares "the same problem"
    -- across transactions (DECISIONS.md).
    case
        when transactions.intent is null or transactions.intent = 'unmapped' then interactions.intent
        else transactions.intent
    end as effective_intent,
    transactions.is_resolved,
    transactions.is_resolution_known,
    transactions.outcome,
    transactions.is_assisted,
    not transactions.is_assisted as is_self_service,
    transactions.queue,
    transactions.agent_id,
    transactions.direction,
    transactions.initiated_by,
    transactions.initiated_by = 'customer' as is_customer_initiated,
    transactions.is_customer_ambiguous,
    transactions._input_fingerprint
from {{ ref('int_interactions_sessionized') }} as transactions
left join {{ ref('int_interactions_summarized') }} as interactions
    on transactions.interaction_id = interactions.interaction_id
{{ customers_to_rebuild('transactions.customer_key') }}
