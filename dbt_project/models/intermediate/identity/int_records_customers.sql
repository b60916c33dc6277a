-- The customer (customer_key) of every record: the component of its usable identifiers. A record whose only
-- identifiers are blocked (a switchboard number) is a customer of its own, keyed by the record: two calls from
-- the same switchboard are two strangers, not one customer (DECISIONS.md). A record with no identifier at all is
-- an anonymous customer of its own (int_transactions_enriched).
with occurrences as (
    select * from {{ ref('int_identifier_occurrences') }}
),

classified as (
    select * from {{ ref('int_identifiers_classified') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
),

per_record as (
    select
        occurrences.record_type,
        occurrences.record_id,
        min(case when not classified.is_blocked then components.component_label end) as usable_label
    from occurrences
    inner join classified on occurrences.identifier_node = classified.identifier_node
    inner join components on occurrences.identifier_node = components.identifier_node
    group by occurrences.record_type, occurrences.record_id
)

select
    record_type,
    record_id,
    {{ dbt.hash("coalesce(usable_label, 'ambiguous:' || record_type || ':' || record_id)") }} as customer_key,
    usable_label is null as is_ambiguous
from per_record
