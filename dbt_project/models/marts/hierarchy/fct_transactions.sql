-- Level 2: one row per use of one system, pointing to its interaction.
select
    transaction_id,
    transaction_type,
    channel,
    source_id,
    contact_id,
    interaction_id,
    customer_key,
    started_at,
    ended_at,
    duration_seconds,
    intent,
    intent_code_id,
    is_resolved,
    outcome,
    is_assisted,
    not is_assisted as is_self_service,
    queue,
    agent_id,
    direction,
    is_customer_ambiguous
from {{ ref('int_interactions_sessionized') }}
