-- Level 3 building block: transactions grouped into interactions. All transactions of one call or one chat
-- (contact_id) stay together; contacts of the same customer merge when one starts less than
-- var('session_gap_minutes') after everything before it has ended (docs/domain.md section 4).
-- Incremental by customer (macros/incremental_customers.sql): a nightly run rebuilds only the customers whose
-- transactions changed.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_customers() }}",
    post_hook=["{{ forget_stale_customers() }}", "{{ record_rebuilt_customers() }}"],
) }}
with transactions as (
    select * from {{ ref('int_transactions_enriched') }}
    {{ customers_to_rebuild('customer_key') }}
),

contacts as (
    select
        customer_key,
        contact_id,
        min(started_at) as contact_started_at,
        max(ended_at) as contact_ended_at
    from transactions
    group by customer_key, contact_id
),

with_previous as (
    select
        *,
        max(contact_ended_at) over (
            partition by customer_key order by contact_started_at, contact_id
            rows between unbounded preceding and 1 preceding
        ) as previous_ended_at
    from contacts
),

flagged as (
    select
        *,
        case
            when previous_ended_at is null then 1
            when contact_started_at >= {{ add_minutes('previous_ended_at', var('session_gap_minutes')) }} then 1
            else 0
        end as is_new_interaction
    from with_previous
),

numbered as (
    select
        *,
        cast(sum(is_new_interaction) over (
            partition by customer_key order by contact_started_at, contact_id
            rows between unbounded preceding and current row
        ) as bigint) as interaction_number
    from flagged
),

identified as (
    select
        customer_key,
        contact_id,
        first_value(contact_id) over (
            partition by customer_key, interaction_number order by contact_started_at, contact_id
            rows between unbounded preceding and unbounded following
        ) as first_contact_id
    from numbered
)

select
    transactions.*,
    {{ dbt.hash("identified.customer_key || '|' || identified.first_contact_id") }} as interaction_id,
    fingerprints.input_fingerprint as _input_fingerprint
from transactions
inner join identified
    on transactions.customer_key = identified.customer_key and transactions.contact_id = identified.contact_id
left join {{ ref('int_customer_fingerprints') }} as fingerprints
    on transactions.customer_key = fingerprints.customer_key
