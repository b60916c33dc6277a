-- One row per customer with transactions: what its rows of fct_engagements are built from (DECISIONS.md
-- "Engagements incremental by customer, judged against the data's end"). The customer's transactions
-- (int_customer_fingerprints, the settings included) and the survey answers matched to its engagements, which
-- can arrive or change without any transaction changing. The data's end is not in it: fct_engagements' pre-hook
-- rebuilds the customers whose windows it moved past.
with answers as (
    select
        customer_key,
        {{ row_fingerprint(ref('fct_survey_answers')) }} as answer_fingerprint
    from {{ ref('fct_survey_answers') }}
    where engagement_id is not null
),

answer_fingerprints as (
    select
        customer_key,
        {{ fingerprint_agg('answer_fingerprint') }} as answers_fingerprint
    from answers
    group by customer_key
)

select
    customers.customer_key,
    {{ dbt.concat([
        'customers.input_fingerprint',
        "';answers:'",
        "coalesce(answer_fingerprints.answers_fingerprint, 'none')",
    ]) }} as input_fingerprint
from {{ ref('int_customer_fingerprints') }} as customers
left join answer_fingerprints on customers.customer_key = answer_fingerprints.customer_key
