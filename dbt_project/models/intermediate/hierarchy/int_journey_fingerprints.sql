-- One row per customer with transactions: what its row of fct_customer_journeys is built from (DECISIONS.md
-- "Journeys incremental by customer"). Its transactions (int_customer_fingerprints, for its interactions and
-- channels), the columns of its engagements the journey reads (they change when a window ends, without any
-- transaction changing), its survey answers (matched to a contact or only to the respondent) and the columns of its
-- CRM record the journey reads. Keep both column lists with what fct_customer_journeys.sql reads.
with engagements as (
    select
        customer_key,
        {{ columns_fingerprint([
            'engagement_id', 'started_at', 'intent', 'is_open_at_data_end', 'is_first_contact_resolved',
            'is_window_complete', 'is_resolved', 'is_resolution_known', 'is_assisted', 'is_fcr_eligible',
        ]) }} as engagement_fingerprint
    from {{ ref('fct_engagements') }}
),

engagement_fingerprints as (
    select
        customer_key,
        {{ fingerprint_agg('engagement_fingerprint') }} as engagements_fingerprint
    from engagements
    group by customer_key
),

answers as (
    select
        customer_key,
        {{ row_fingerprint(ref('fct_survey_answers')) }} as answer_fingerprint
    from {{ ref('fct_survey_answers') }}
    where customer_key is not null
),

answer_fingerprints as (
    select
        customer_key,
        {{ fingerprint_agg('answer_fingerprint') }} as answers_fingerprint
    from answers
    group by customer_key
),

crm as (
    select
        customer_key,
        cast(
            {{ columns_fingerprint(['customer_ref', 'is_anonymous', 'value_tier', 'is_churned', 'churned_at']) }}
            as {{ dbt.type_string() }}
        ) as customer_fingerprint
    from {{ ref('dim_customers') }}
)

select
    customers.customer_key,
    {{ dbt.concat([
        'customers.input_fingerprint',
        "';engagements:'",
        "coalesce(engagement_fingerprints.engagements_fingerprint, 'none')",
        "';answers:'",
        "coalesce(answer_fingerprints.answers_fingerprint, 'none')",
        "';customer:'",
        "coalesce(crm.customer_fingerprint, 'none')",
    ]) }} as input_fingerprint
from {{ ref('int_customer_fingerprints') }} as customers
left join engagement_fingerprints on customers.customer_key = engagement_fingerprints.customer_key
left join answer_fingerprints on customers.customer_key = answer_fingerprints.customer_key
left join crm on customers.customer_key = crm.customer_key
