-- One row per customer: a hash of all its transactions, every column of each (DECISIONS.md "The hierarchy is
-- incremental by customer"). Two runs give the same fingerprint exactly when the customer's transactions are
-- the same, so a model incremental by customer rebuilds the customers whose fingerprint changed.
with transactions as (
    select
        customer_key,
        {#- Not the run's state of int_transactions_enriched (macros/incremental_transactions.sql): when a row was
            built is not what it says. -#}
        {{ row_fingerprint(ref('int_transactions_enriched'), transactions_run_state()) }} as transaction_fingerprint
    from {{ ref('int_transactions_enriched') }}
)

-- The variables the incremental models read are part of it: changing one rebuilds every customer.
{% set settings = "'session_gap_minutes=" ~ var('session_gap_minutes') ~ ";engagement_window_days="
    ~ var('engagement_window_days') ~ "'" %}

select
    customer_key,
    {{ dbt.concat([settings, "':'", fingerprint_agg('transaction_fingerprint')]) }} as input_fingerprint,
    count(*) as transactions_count
from transactions
group by customer_key
