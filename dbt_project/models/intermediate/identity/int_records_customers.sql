-- The customer (customer_key) of every record: the component of its usable identifiers. A record whose only
-- identifiers are blocked takes the component of its first blocked identifier alone (an ambiguous caller stays
-- apart); a record with no identifier at all is an anonymous customer of its own.
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
        min(case when not classified.is_blocked then components.component_label end) as usable_label,
        min(case when classified.is_blocked then occurrences.identifier_node end) as blocked_node
    from occurrences
    inner join classified on occurrences.identifier_node = classified.identifier_node
    inner join components on occurrences.identifier_node = components.identifier_node
    group by occurrences.record_type, occurrences.record_id
)

select
    record_type,
    record_id,
    {{ dbt.hash('coalesce(usable_label, blocked_node)') }} as customer_key,
    usable_label is null as is_ambiguous
from per_record
