-- One row per customer: a hash of all its transactions, every column of each (DECISIONS.md "The hierarchy is
-- incremental by customer"). Two runs give the same fingerprint exactly when the customer's transactions are
-- the same, so a model incremental by customer rebuilds the customers whose fingerprint changed.
with transactions as (
    select
        customer_key,
        {{ row_fingerprint(ref('int_transactions_enriched')) }} as transaction_fingerprint
    from {{ ref('int_transactions_enriched') }}
)

select
    customer_key,
    {{ dbt.hash(dbt.listagg('transaction_fingerprint', "','", 'order by transaction_fingerprint')) }}
        as input_fingerprint,
    count(*) as transactions_count
from transactions
group by customer_key
