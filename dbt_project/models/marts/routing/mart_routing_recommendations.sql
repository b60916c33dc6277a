-- Routing recommendations per customer segment x intent: every agent who served the intent, with resolution,
-- CSAT and handle time and the count behind each, ranked by the Wilson lower bound of the resolution rate (at
-- var('coaching_confidence_z') standard errors) so that a few lucky contacts never crown an agent; ties go to
-- the higher CSAT lower bound, then the shorter handle time. Only agents with at least
-- var('routing_min_contacts') contacts of known resolution in the cell are ranked; the first
-- var('routing_top_agents') are recommended (the routing engine's CSV, docs/predictions.md), unless the agent's
-- resolution is significantly worse than the cell's (the Wilson upper bound under the resolution rate of all the
-- cell's contacts): with few eligible agents, a top-N rule alone would recommend a clearly weak one.
-- The agent's work on a customer's problem: answered inbound call legs the agent did not hand on, agent chats.
with handled as (
    select transaction_id, agent_id, customer_key, intent, is_resolved, is_resolution_known, handle_seconds
    from {{ ref('int_agent_contacts_timed') }}
    where intent not in ('unknown', 'unmapped')
        and (
            (transaction_type = 'call_leg' and direction = 'inbound' and outcome = 'answered')
            or transaction_type = 'chat_agent'
        )
),

csat as (
    select
        transaction_id,
        count(*) as csat_answers,
        sum(case when is_csat_satisfied then 1 else 0 end) as csat_satisfied
    from {{ ref('fct_survey_answers') }}
    where survey_type = 'csat' and is_valid_score and transaction_id is not null
    group by transaction_id
),

-- Each contact counts in its customer's segment (fct_customer_journeys.segment) and in 'all'.
segmented as (
    select handled.*, journeys.segment
    from handled
    inner join {{ ref('fct_customer_journeys') }} as journeys on handled.customer_key = journeys.customer_key
    union all
    select handled.*, 'all' as segment
    from handled
),

cells as (
    select
        segmented.segment,
        segmented.intent,
        segmented.agent_id,
        count(*) as contacts,
        sum(case when segmented.is_resolution_known then 1 else 0 end) as resolution_known_contacts,
        sum(case when segmented.is_resolution_known and segmented.is_resolved then 1 else 0 end) as resolved_contacts,
        coalesce(sum(csat.csat_answers), 0) as csat_answers,
        coalesce(sum(csat.csat_satisfied), 0) as csat_satisfied,
        sum(segmented.handle_seconds) as handle_seconds
    from segmented
    left join csat on segmented.transaction_id = csat.transaction_id
    group by 1, 2, 3
),

rated as (
    select
        segment,
        intent,
        agent_id,
        cast(contacts as bigint) as contacts,
        cast(resolution_known_contacts as bigint) as resolution_known_contacts,
        cast(resolved_contacts as bigint) as resolved_contacts,
        {{ safe_ratio('resolved_contacts', 'resolution_known_contacts') }} as resolution_rate,
        {{ wilson_bound('resolved_contacts', 'resolution_known_contacts', 'lower') }} as resolution_lower_bound,
        cast(csat_answers as bigint) as csat_answers,
        {{ metric_sql('csat_rate') }} as csat_rate,
        {{ wilson_bound('csat_satisfied', 'csat_answers', 'lower') }} as csat_lower_bound,
        {{ metric_sql('aht_seconds', columns={'handled_contacts': 'contacts'}) }} as aht_seconds,
        resolution_known_contacts >= {{ var('routing_min_contacts') }} as is_eligible
    from cells
),

ranked as (
    select
        rated.*,
        case when is_eligible then
            row_number() over (
                partition by segment, intent, is_eligible
                order by resolution_lower_bound desc, csat_lower_bound desc nulls last, aht_seconds asc, agent_id
            )
        end as agent_rank,
        {{ wilson_bound('resolved_contacts', 'resolution_known_contacts', 'upper') }}
        < {{ safe_ratio(
            'sum(resolved_contacts) over (partition by segment, intent)',
            'sum(resolution_known_contacts) over (partition by segment, intent)'
        ) }} as is_worse_than_cell
    from rated
)

select
    {{ dbt.hash("segment || '|' || intent || '|' || agent_id") }} as routing_key,
    segment, intent, agent_id, contacts, resolution_known_contacts, resolved_contacts, resolution_rate,
    resolution_lower_bound, csat_answers, csat_rate, csat_lower_bound, aht_seconds, is_eligible, agent_rank,
    coalesce(agent_rank <= {{ var('routing_top_agents') }} and not is_worse_than_cell, false) as is_recommended
from ranked
