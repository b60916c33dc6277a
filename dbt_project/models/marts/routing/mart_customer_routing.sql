-- Per customer of a segment docs/domain.md names (at risk, frequent contacter, high value; the journey's one
-- segment, first that applies): the intent of the customer's latest problem, the skill (queue) that answers that
-- intent's calls most often, and the agent ranked first for the segment x intent in mart_routing_recommendations
-- (else for all customers x intent): where the routing engine sends this customer's next call.
with customers as (
    select customer_key, customer_ref, segment
    from {{ ref('fct_customer_journeys') }}
    where segment in ('at_risk', 'frequent_contacter', 'high_value')
),

latest as (
    select
        customer_key,
        intent,
        row_number() over (partition by customer_key order by started_at desc, engagement_id) as recency
    from {{ ref('fct_engagements') }}
    where intent not in ('unknown', 'unmapped')
),

skills as (
    select
        intent,
        last_queue as skill,
        row_number() over (partition by intent order by count(*) desc, last_queue) as popularity
    from {{ ref('fct_interactions') }}
    where last_queue is not null and intent not in ('unknown', 'unmapped')
    group by intent, last_queue
),

best as (
    select segment, intent, agent_id
    from {{ ref('mart_routing_recommendations') }}
    where agent_rank = 1
)

select
    customers.customer_key,
    customers.customer_ref,
    customers.segment,
    latest.intent as latest_intent,
    skills.skill as recommended_skill,
    coalesce(in_segment.agent_id, overall.agent_id) as recommended_agent_id,
    case
        when in_segment.agent_id is not null then customers.segment
        when overall.agent_id is not null then 'all'
    end as recommendation_basis
from customers
left join latest on customers.customer_key = latest.customer_key and latest.recency = 1
left join skills on latest.intent = skills.intent and skills.popularity = 1
left join best as in_segment on customers.segment = in_segment.segment and latest.intent = in_segment.intent
left join best as overall on overall.segment = 'all' and latest.intent = overall.intent
