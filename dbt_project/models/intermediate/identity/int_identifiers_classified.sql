-- One row per identifier, with how many distinct CRM customers it appears with. An identifier seen with more
-- than max_customers_per_identifier customer_refs (a switchboard number, a family e-mail) is not used for
-- linking (docs/domain.md section 3).
with occurrences as (
    select * from {{ ref('int_identifier_occurrences') }}
),

refs_per_record as (
    select record_type, record_id, customer_ref
    from occurrences
    where customer_ref is not null
),

refs_per_identifier as (
    select
        occurrences.identifier_node,
        count(distinct refs_per_record.customer_ref) as customer_refs
    from occurrences
    inner join refs_per_record
        on occurrences.record_type = refs_per_record.record_type
        and occurrences.record_id = refs_per_record.record_id
    group by occurrences.identifier_node
)

select
    occurrences.identifier_node,
    min(occurrences.identifier_type) as identifier_type,
    count(*) as records,
    coalesce(max(refs_per_identifier.customer_refs), 0) as customer_refs,
    coalesce(max(refs_per_identifier.customer_refs), 0) > {{ var('max_customers_per_identifier') }}
        and min(occurrences.identifier_type) <> 'customer_ref' as is_blocked
from occurrences
left join refs_per_identifier on occurrences.identifier_node = refs_per_identifier.identifier_node
group by occurrences.identifier_node
