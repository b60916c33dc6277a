-- Satisfaction KPIs per period (day, week from Monday, month), channel, intent and agent (docs/domain.md section 5):
--   NPS  = 100 × (promoters (9-10) − detractors (0-6)) / NPS answers, in -100..100;
--   CSAT = CSAT answers scoring 4 or 5 / CSAT answers (top-two box, over answers, not contacts), and the mean
--          CSAT score.
-- Only valid scores count (NPS 0-10, CSAT 1-5: fct_survey_answers.is_valid_score); invalid ones are counted
-- apart. An answer is dated by when it was given; its intent is the rated interaction's ('unknown' when the
-- answer matches no contact); its agent is the rated transaction's agent ('none' without one).
with answers as (
    select
        answers.responded_at,
        coalesce(answers.channel, 'unknown') as channel,
        coalesce(interactions.intent, 'unknown') as intent,
        coalesce(transactions.agent_id, 'none') as agent_id,
        answers.survey_type,
        answers.score,
        coalesce(answers.is_valid_score, false) as is_valid_score
    from {{ ref('fct_survey_answers') }} as answers
    left join {{ ref('fct_transactions') }} as transactions on answers.transaction_id = transactions.transaction_id
    left join {{ ref('fct_interactions') }} as interactions on answers.interaction_id = interactions.interaction_id
),

valid as (
    select
        *,
        case when is_valid_score and survey_type = 'nps' then 1 else 0 end as is_nps,
        case when is_valid_score and survey_type = 'csat' then 1 else 0 end as is_csat
    from answers
),

daily as (
    select
        {{ reporting_date('responded_at') }} as activity_date,
        channel,
        intent,
        agent_id,
        sum(is_nps) as nps_answers,
        sum(case when is_nps = 1 and score >= 9 then 1 else 0 end) as promoters,
        sum(case when is_nps = 1 and score between 7 and 8 then 1 else 0 end) as passives,
        sum(case when is_nps = 1 and score <= 6 then 1 else 0 end) as detractors,
        sum(is_csat) as csat_answers,
        sum(case when is_csat = 1 and score >= 4 then 1 else 0 end) as csat_satisfied,
        sum(case when is_csat = 1 then score else 0 end) as csat_score_sum,
        sum(case when is_valid_score then 0 else 1 end) as invalid_answers
    from valid
    group by 1, 2, 3, 4
),

rolled_up as (
    {{ period_rollup('daily', ['channel', 'intent', 'agent_id'],
        ['nps_answers', 'promoters', 'passives', 'detractors', 'csat_answers', 'csat_satisfied', 'csat_score_sum',
         'invalid_answers']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || channel || '|'
            || intent
        || '|' || agent_id") }}
        as satisfaction_key,
    period_grain,
    period_start,
    channel,
    intent,
    agent_id,
    nps_answers,
    promoters,
    passives,
    detractors,
    {{ metric_sql('nps') }} as nps,
    csat_answers,
    csat_satisfied,
    {{ metric_sql('csat_rate') }} as csat_rate,
    csat_score_sum,
    {{ safe_ratio('csat_score_sum', 'csat_answers') }} as csat_score_mean,
    invalid_answers
from rolled_up
