-- Customer outcomes per day (reporting time zone), channel, intent and customer segment: the counts behind FCR,
-- NPS and CSAT with the customer's segment beside them, so that the semantic layer (semantic model segment_day) and
-- SQL users can slice these KPIs by segment. The counts are mart_resolution's and mart_satisfaction's day counts
-- split by segment, with the same channel and intent: summed over segments they are those marts' figures
-- (tests/test_semantic_layer.py). A customer's segment is fct_customer_journeys.segment, the one segment that
-- applies first (at_risk, frequent_contacter, high_value, else regular) at the data's end, not at the time of the
-- contact; 'unknown' when the engagement or answer has no known customer.
with segments as (
    select customer_key, segment from {{ ref('fct_customer_journeys') }}
),

engagements as (
    select
        {{ reporting_date('engagements.started_at') }} as activity_date,
        coalesce(engagements.first_channel, 'unknown') as channel,
        coalesce(engagements.intent, 'unknown') as intent,
        coalesce(segments.segment, 'unknown') as segment,
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
    group by 1, 2, 3, 4
),

answers as (
    -- Dated by when the answer was given; its intent is the rated interaction's (mart_satisfaction's rules).
    select
        {{ reporting_date('answers.responded_at') }} as activity_date,
        coalesce(answers.channel, 'unknown') as channel,
        coalesce(interactions.intent, 'unknown') as intent,
        coalesce(segments.segment, 'unknown') as segment,
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
    left join segments on answers.customer_key = segments.customer_key
    group by 1, 2, 3, 4
),

daily as (
    select
        activity_date,
        channel,
        intent,
        segment,
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
    group by 1, 2, 3, 4
)

select
    {{ dbt.hash("cast(activity_date as " ~ dbt.type_string() ~ ") || '|' || channel || '|' || intent
        || '|' || segment") }}
        as segment_outcomes_key,
    daily.*,
    -- The rates are the semantic layer's metrics (macro metric_sql), not formulas of their own.
    {{ metric_sql('fcr_rate') }} as fcr_rate,
    {{ metric_sql('nps') }} as nps,
    {{ metric_sql('csat_rate') }} as csat_rate
from daily
