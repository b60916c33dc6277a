-- One row per survey answer, with the transaction, interaction, engagement and customer it rates, and the
-- standard categories: NPS promoter 9-10, passive 7-8, detractor 0-6; CSAT satisfied = 4 or 5 (top-two box).
with answers as (
    select * from {{ ref('int_survey_answers_matched') }}
),

engagements as (
    select interaction_id, engagement_id, customer_key from {{ ref('int_engagements_windowed') }}
),

respondents as (
    select record_id, customer_key from {{ ref('int_records_customers') }} where record_type = 'survey'
)

select
    answers.response_id,
    answers.survey_type,
    answers.channel,
    answers.responded_at,
    answers.score,
    answers.answer_source,
    case
        when answers.survey_type = 'nps' then answers.score between 0 and 10
        when answers.survey_type = 'csat' then answers.score between 1 and 5
        else false
    end as is_valid_score,
    case
        when answers.survey_type <> 'nps' or answers.score is null or answers.score not between 0 and 10 then null
        when answers.score >= 9 then 'promoter'
        when answers.score >= 7 then 'passive'
        else 'detractor'
    end as nps_category,
    case when answers.survey_type = 'csat' and answers.score between 1 and 5 then answers.score >= 4 end
        as is_csat_satisfied,
    answers.transaction_id,
    answers.interaction_id,
    engagements.engagement_id,
    coalesce(engagements.customer_key, respondents.customer_key) as customer_key,
    answers.transaction_id is not null as is_matched_to_contact
from answers
left join engagements on answers.interaction_id = engagements.interaction_id
left join respondents on answers.response_id = respondents.record_id
