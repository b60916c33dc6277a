-- The counts behind FCR, NPS and CSAT per day (reporting time zone), channel, intent, customer segment and agent:
-- the grain of the semantic model outcome_day, so that MetricFlow can slice these KPIs by segment and by agent, and
-- the one place these counts are made (mart_segment_outcomes sums them over agents). Each engagement and each answer
-- counts for exactly one agent, so an agent split never counts anything twice (docs/semantic_layer.md):
--   an engagement belongs to the agent of its first interaction (the last agent of that interaction, as the agent
--   scorecard's FCR), an answer to the agent of the transaction it rates (as the scorecard's CSAT; NPS alike);
--   'none' when there is no such agent (self-service, a form, an answer rating no agent's contact).
-- A customer's segment is fct_customer_journeys.segment at the data's end; 'unknown' without a known customer.
with segments as (
    select customer_key, segment from {{ ref('fct_customer_journeys') }}
),

first_agents as (
    select engagement_id, last_agent_id as agent_id
    from {{ ref('fct_interactions') }}
    where sequence_in_engagement = 1
),

engagements as (
    select
        {{ reporting_date('engagements.started_at') }} as activity_date,
        coalesce(engagements.first_channel, 'unknown') as channel,
        coalesce(engagements.intent, 'unknown') as intent,
        coalesce(segments.segment, 'unknown') as segment,
        coalesce(first_agents.agent_id, 'none') as agent_id,
        count(*) as engagements,
        sum(case when engagements.is_first_contact_resolved is not null then 1 else 0 end) as closed_engagements,
        sum(case when engagements.is_first_contact_resolved then 1 else 0 end) as fcr_engagements,
        0 as nps_answers,
        0 as promoters,
        0 as detractors,
        0 as csat_answers,
        0 as csat_satisfied
    from {{ ref('fct_engagements') }} as engagements
    left join segments on engagements.customer_key = segments.customer_key
    left join first_agents on engagements.engagement_id = first_agents.engagement_id
    group by 1, 2, 3, 4, 5
),

answers as (
    -- Dated by when the answer was given; its intent is the rated interaction's (mart_satisfaction's rules).
    select
        {{ reporting_date('answers.responded_at') }} as activity_date,
        coalesce(answers.channel, 'unknown') as channel,
        coalesce(interactions.intent, 'unknown') as intent,
        coalesce(segments.segment, 'unknown') as segment,
        coalesce(transactions.agent_id, 'none') as agent_id,
        0 as engagements,
        0 as closed_engagements,
        0 as fcr_engagements,
        sum(case when answers.is_valid_score and answers.survey_type = 'nps' then 1 else 0 end) as nps_answers,
        sum(case when answers.is_valid_score and answers.survey_type = 'nps' and answers.score >= 9 then 1 else 0 end)
            as promoters,
        sum(case when answers.is_valid_score and answers.survey_type = 'nps' and answers.score <= 6 then 1 else 0 end)
            as detractors,
        sum(case when answers.is_valid_score and answers.survey_type = 'csat' then 1 else 0 end) as csat_answers,
        sum(case when answers.is_valid_score and answers.survey_type = 'csat' and answers.score >= 4 then 1 else 0 end)
            as csat_satisfied
    from {{ ref('fct_survey_answers') }} as answers
    left join {{ ref('fct_interactions') }} as interactions on answers.interaction_id = interactions.interaction_id
    left join {{ ref('fct_transactions') }} as transactions on answers.transaction_id = transactions.transaction_id
    left join segments on answers.customer_key = segments.customer_key
    group by 1, 2, 3, 4, 5
),

daily as (
    select
        activity_date,
        channel,
        intent,
        segment,
        agent_id,
        cast(sum(engagements) as bigint) as engagements,
        cast(sum(closed_engagements) as bigint) as closed_engagements,
        cast(sum(fcr_engagements) as bigint) as fcr_engagements,
        cast(sum(nps_answers) as bigint) as nps_answers,
        cast(sum(promoters) as bigint) as promoters,
        cast(sum(detractors) as bigint) as detractors,
        cast(sum(csat_answers) as bigint) as csat_answers,
        cast(sum(csat_satisfied) as bigint) as csat_satisfied
    from (
        select * from engagements
        union all
        select * from answers
    ) as unioned
    group by 1, 2, 3, 4, 5
)

select
    {{ dbt.hash("cast(activity_date as " ~ dbt.type_string() ~ ") || '|' || channel || '|' || intent
        || '|' || segment || '|' || agent_id") }}
        as outcome_counts_key,
    daily.*
from daily
