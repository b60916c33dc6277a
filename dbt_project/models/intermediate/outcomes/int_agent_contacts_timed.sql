-- Every transaction an agent worked, with its handle time: talk + hold + wrap for an answered call leg
-- (leg_handle_seconds), else the transaction's duration (an agent chat's length). One definition for the marts
-- that weigh agents' work per intent (mart_coaching_plan, mart_routing_recommendations); each keeps its own choice
-- of contacts (is_answered_leg, transaction_type, direction, outcome).
with legs as (
    select
        'call:' || call_id as transaction_id,
        {{ leg_handle_seconds() }} as handle_seconds
    from {{ ref('int_call_legs_chained') }}
    where answered_at is not null
)

select
    transactions.transaction_id,
    transactions.transaction_type,
    transactions.direction,
    transactions.outcome,
    transactions.agent_id,
    transactions.customer_key,
    transactions.effective_intent as intent,
    transactions.is_resolved,
    transactions.is_resolution_known,
    legs.transaction_id is not null as is_answered_leg,
    coalesce(legs.handle_seconds, transactions.duration_seconds) as handle_seconds
from {{ ref('fct_transactions') }} as transactions
left join legs on transactions.transaction_id = legs.transaction_id
where transactions.agent_id is not null
