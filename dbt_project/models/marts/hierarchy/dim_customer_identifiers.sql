-- One row per identifier (keyed hash) and the customer it belongs to. A blocked identifier (shared by more
-- than max_customers_per_identifier CRM customers) is listed under each customer it was seen with.
with occurrences as (
    select * from {{ ref('int_identifier_occurrences') }}
),

records as (
    select * from {{ ref('int_records_customers') }}
)

select
    {{ dbt.hash("records.customer_key || '|' || occurrences.identifier_node") }} as customer_identifier_id,
    records.customer_key,
    occurrences.identifier_node,
    min(occurrences.identifier_type) as identifier_type,
    max(case when classified.is_blocked then 1 else 0 end) = 1 as is_blocked,
    count(*) as records_count
from occurrences
inner join records
    on occurrences.record_type = records.record_type and occurrences.record_id = records.record_id
inner join {{ ref('int_identifiers_classified') }} as classified
    on occurrences.identifier_node = classified.identifier_node
group by records.customer_key, occurrences.identifier_node
