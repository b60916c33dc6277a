-- One row per identifier (keyed hash) and the customer it belongs to. A blocked identifier (shared by more
-- than max_customers_per_identifier CRM customers) is listed under each customer it was seen with.
-- Incremental by customer (DECISIONS.md "dim_customer_identifiers incremental by customer"): a nightly run rebuilds
-- the customers whose records changed (int_customer_identity_fingerprints); the others keep their rows.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_customers('int_customer_identity_fingerprints') }}",
    post_hook=[
        "{{ forget_stale_customers('int_customer_identity_fingerprints') }}",
        "{{ record_rebuilt_customers('int_customer_identity_fingerprints') }}",
    ],
) }}
with records as (
    select * from {{ ref('int_records_customers') }}
    {{ customers_to_rebuild('customer_key', 'int_customer_identity_fingerprints') }}
),

occurrences as (
    select * from {{ ref('int_identifier_occurrences') }}
)

select
    {{ dbt.hash("records.customer_key || '|' || occurrences.identifier_node") }} as customer_identifier_id,
    records.customer_key,
    occurrences.identifier_node,
    min(occurrences.identifier_type) as identifier_type,
    max(case when classified.is_blocked then 1 else 0 end) = 1 as is_blocked,
    count(*) as records_count,
    fingerprints.input_fingerprint as _input_fingerprint
from occurrences
inner join records
    on occurrences.record_type = records.record_type and occurrences.record_id = records.record_id
inner join {{ ref('int_identifiers_classified') }} as classified
    on occurrences.identifier_node = classified.identifier_node
inner join {{ ref('int_customer_identity_fingerprints') }} as fingerprints
    on records.customer_key = fingerprints.customer_key
group by records.customer_key, occurrences.identifier_node, fingerprints.input_fingerprint
