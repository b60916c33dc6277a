-- One row per interaction with what the prediction features read of it: the hierarchy's own columns, and the
-- transfers, abandoned legs, queue wait and customer sentiment of its transactions. Every column here is known
-- when the interaction ends (ended_at): the features of a prediction made at time t read only interactions that
-- ended by t (contact_warehouse/predictions/features.py).
with legs as (
    select
        'call:' || call_id as transaction_id,
        case when answered_at is not null and queued_at is not null
            then {{ seconds_between('queued_at', 'answered_at') }} end as wait_seconds
    from {{ ref('int_call_legs_chained') }}
),

calls as (
    select
        transactions.interaction_id,
        sum(case when transactions.outcome = 'transferred' then 1 else 0 end) as transfers,
        sum(case when transactions.outcome = 'abandoned' then 1 else 0 end) as abandoned_legs,
        sum(legs.wait_seconds) as wait_seconds
    from {{ ref('fct_transactions') }} as transactions
    inner join legs on transactions.transaction_id = legs.transaction_id
    group by transactions.interaction_id
)

select
    interactions.interaction_id,
    interactions.engagement_id,
    interactions.customer_key,
    interactions.started_at,
    interactions.ended_at,
    interactions.intent,
    interactions.first_channel,
    interactions.channels_count,
    interactions.is_assisted,
    interactions.is_customer_initiated,
    interactions.is_resolved,
    interactions.effort_minutes,
    cast(coalesce(calls.transfers, 0) as bigint) as transfers,
    cast(coalesce(calls.abandoned_legs, 0) as bigint) as abandoned_legs,
    cast(calls.wait_seconds as {{ type_double() }}) as wait_seconds,
    sentiment.mean_compound as sentiment_compound
from {{ ref('fct_interactions') }} as interactions
left join calls on interactions.interaction_id = calls.interaction_id
left join {{ ref('int_interaction_sentiment') }} as sentiment
    on interactions.interaction_id = sentiment.interaction_id
