-- One row per identifier, with how many distinct CRM customers it appears with. An identifier seen with more
-- than max_customers_per_identifier customer_refs (a switchboard number, a family e-mail) is not used for
-- linking (docs/domain.md section 3).
-- Incremental by identifier (DECISIONS.md "Identity resolution incremental by record, identifier and
-- component"): an identifier's row depends only on the records that carry it, so the pre-hook deletes the rows
-- whose fingerprint of those records' versions changed, and a nightly run computes the identifiers left without
-- a row.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed_identifiers() }}",
) }}

with occurrences as (
    select * from {{ ref('int_identifier_occurrences') }}
    {%- if is_incremental() %}
    where identifier_node not in (select identifier_node from {{ this }})
    {%- endif %}
),

refs_per_record as (
    select all_occurrences.record_type, all_occurrences.record_id, all_occurrences.customer_ref
    from {{ ref('int_identifier_occurrences') }} as all_occurrences
    {%- if is_incremental() %}
    -- Only the records of the identifiers built.
    inner join (select distinct record_type, record_id from occurrences) as records_built
        on all_occurrences.record_type = records_built.record_type
        and all_occurrences.record_id = records_built.record_id
    {%- endif %}
    where all_occurrences.customer_ref is not null
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
),

fingerprints as (
    {{ identifier_fingerprints('occurrences') }}
)

select
    occurrences.identifier_node,
    min(occurrences.identifier_type) as identifier_type,
    count(*) as records,
    coalesce(max(refs_per_identifier.customer_refs), 0) as customer_refs,
    coalesce(max(refs_per_identifier.customer_refs), 0) > {{ var('max_customers_per_identifier') }}
        and min(occurrences.identifier_type) <> 'customer_ref' as is_blocked,
    max(fingerprints.input_fingerprint) as _input_fingerprint
from occurrences
left join refs_per_identifier on occurrences.identifier_node = refs_per_identifier.identifier_node
inner join fingerprints on occurrences.identifier_node = fingerprints.identifier_node
group by occurrences.identifier_node
