-- Level 5: one row per customer with contacts: the whole journey across engagements (docs/domain.md section 4).
-- Segments: frequent contacter (>= 3 customer-initiated interactions within 30 days), high value (CRM tier), at
-- risk (latest NPS answer a detractor, or the customer's latest problem is one a person handled and that stayed
-- unresolved past its window: what a manager would call back about; DECISIONS.md).
-- A FAQ read without an up-vote, or a problem from weeks ago that the customer has since moved past, is not
-- "at risk".
with customers as (
    select * from {{ ref('dim_customers') }}
),

engagements as (
    select
        *,
        row_number() over (partition by customer_key order by started_at desc, engagement_id desc) as recency_rank
    from {{ ref('fct_engagements') }}
),

interactions as (
    select * from {{ ref('fct_interactions') }}
),

-- Frequent contacter counts the customer's own contacts: callbacks and reminder texts are the company's.
customer_initiated as (
    select
        customer_key,
        started_at,
        lead(started_at, 2) over (partition by customer_key order by started_at, interaction_id)
            as third_next_started_at
    from interactions
    where is_customer_initiated
),

frequency as (
    select
        customer_key,
        max(case when third_next_started_at < {{ add_days('started_at', 30) }} then 1 else 0 end) = 1
            as is_frequent_contacter
    from customer_initiated
    group by customer_key
),

channel_counts as (
    select
        customer_key,
        first_channel,
        count(*) as interactions,
        row_number() over (partition by customer_key order by count(*) desc, first_channel) as channel_rank
    from interactions
    group by customer_key, first_channel
),

channels_used as (
    select customer_key, {{ ordered_listagg('channel', "', '", 'channel') }} as channels_used
    from (select distinct customer_key, channel from {{ ref('fct_transactions') }}) as distinct_channels
    group by customer_key
),

intents_used as (
    select customer_key, {{ ordered_listagg('intent', "', '", 'intent') }} as intents
    from (select distinct customer_key, intent from engagements) as distinct_intents
    group by customer_key
),

interaction_summary as (
    select
        customer_key,
        count(*) as interactions_count,
        min(started_at) as first_contact_at,
        max(ended_at) as last_contact_at,
        sum(effort_minutes) as total_effort_minutes
    from interactions
    group by customer_key
),

engagement_summary as (
    select
        customer_key,
        count(*) as engagements_count,
        cast(sum(case when is_open_at_data_end then 1 else 0 end) as bigint) as open_engagements_count,
        cast(sum(case when is_first_contact_resolved then 1 else 0 end) as bigint) as fcr_engagements,
        cast(sum(case when is_first_contact_resolved is not null then 1 else 0 end) as bigint) as closed_engagements,
        max(
            case
                when recency_rank = 1 and is_window_complete and not is_resolved and is_resolution_known
                    and is_assisted and is_fcr_eligible
                    then 1
                else 0
            end
        ) = 1 as is_latest_problem_unresolved
    from engagements
    group by customer_key
),

latest_surveys as (
    select
        customer_key,
        survey_type,
        score,
        nps_category,
        row_number() over (partition by customer_key, survey_type order by responded_at desc, response_id desc)
            as recency_rank
    from {{ ref('fct_survey_answers') }}
    where is_valid_score and customer_key is not null
)

select
    interaction_summary.customer_key,
    customers.customer_ref,
    customers.is_anonymous,
    interaction_summary.first_contact_at,
    interaction_summary.last_contact_at,
    engagement_summary.engagements_count,
    engagement_summary.open_engagements_count,
    interaction_summary.interactions_count,
    channels_used.channels_used,
    preferred.first_channel as preferred_channel,
    intents_used.intents,
    interaction_summary.total_effort_minutes,
    engagement_summary.fcr_engagements,
    engagement_summary.closed_engagements,
    {{ metric_sql('fcr_rate', relation='engagement_summary') }} as fcr_rate,
    nps.score as latest_nps_score,
    nps.nps_category as latest_nps_category,
    csat.score as latest_csat_score,
    customers.value_tier,
    coalesce(frequency.is_frequent_contacter, false) as is_frequent_contacter,
    coalesce(customers.value_tier = 'high', false) as is_high_value,
    coalesce(nps.nps_category = 'detractor', false) or engagement_summary.is_latest_problem_unresolved as is_at_risk,
    case
        when coalesce(nps.nps_category = 'detractor', false) or engagement_summary.is_latest_problem_unresolved
            then 'at_risk'
        when frequency.is_frequent_contacter then 'frequent_contacter'
        when customers.value_tier = 'high' then 'high_value'
        else 'regular'
    end as segment,
    customers.is_churned,
    customers.churned_at
from interaction_summary
inner join engagement_summary on interaction_summary.customer_key = engagement_summary.customer_key
left join frequency on interaction_summary.customer_key = frequency.customer_key
left join customers on interaction_summary.customer_key = customers.customer_key
left join channel_counts as preferred
    on interaction_summary.customer_key = preferred.customer_key and preferred.channel_rank = 1
left join channels_used on interaction_summary.customer_key = channels_used.customer_key
left join intents_used on interaction_summary.customer_key = intents_used.customer_key
left join latest_surveys as nps
    on interaction_summary.customer_key = nps.customer_key and nps.survey_type = 'nps' and nps.recency_rank = 1
left join latest_surveys as csat
    on interaction_summary.customer_key = csat.customer_key and csat.survey_type = 'csat' and csat.recency_rank = 1
