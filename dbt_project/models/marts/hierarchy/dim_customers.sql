-- One row per customer (connected component of identifiers), with CRM attributes and keyed hashes of its
-- identifiers. Raw phone numbers and e-mails never reach this model.
with records as (
    select * from {{ ref('int_records_customers') }}
),

identifiers as (
    select * from {{ ref('dim_customer_identifiers') }}
),

crm as (
    select
        records.customer_key,
        customers.*,
        row_number() over (partition by records.customer_key order by customers.customer_ref) as crm_rank
    from records
    inner join {{ ref('stg_crm__customers') }} as customers
        on records.record_type = 'crm_customer' and records.record_id = customers.customer_ref
),

crm_counts as (
    select customer_key, count(*) as crm_customer_refs
    from crm
    group by customer_key
),

identifier_summary as (
    select
        customer_key,
        count(*) as identifiers_count,
        min(case when identifier_type = 'email' then identifier_node end) as email_hash,
        min(case when identifier_type = 'phone' then identifier_node end) as phone_hash,
        min(case when identifier_type = 'visitor_id' then identifier_node end) as visitor_hash,
        count(case when identifier_type = 'visitor_id' then 1 end) as visitor_ids_count
    from identifiers
    group by customer_key
),

refs_seen as (
    -- A customer_ref seen on any record of the customer (a caller the phone system knew) counts, CRM or not.
    select records.customer_key, min(occurrences.customer_ref) as customer_ref
    from {{ ref('int_identifier_occurrences') }} as occurrences
    inner join records
        on occurrences.record_type = records.record_type and occurrences.record_id = records.record_id
    where occurrences.customer_ref is not null
    group by records.customer_key
),

all_customers as (
    -- The customers of the transactions: int_customer_fingerprints has one row each, where the transactions have
    -- one per transaction to make distinct.
    select customer_key from {{ ref('int_customer_fingerprints') }}
    union
    select distinct customer_key from records
)

select
    all_customers.customer_key,
    coalesce(crm.customer_ref, refs_seen.customer_ref) as customer_ref,
    coalesce(crm_counts.crm_customer_refs, 0) as crm_customer_refs,
    coalesce(crm.customer_ref, refs_seen.customer_ref) is null as is_anonymous,
    coalesce(identifier_summary.identifiers_count, 0) as identifiers_count,
    identifier_summary.email_hash,
    identifier_summary.phone_hash,
    identifier_summary.visitor_hash,
    crm.value_tier,
    crm.timezone,
    crm.created_at as crm_created_at,
    crm.churned_at,
    crm.churned_at is not null as is_churned
from all_customers
left join crm on all_customers.customer_key = crm.customer_key and crm.crm_rank = 1
left join refs_seen on all_customers.customer_key = refs_seen.customer_key
left join crm_counts on all_customers.customer_key = crm_counts.customer_key
left join identifier_summary on all_customers.customer_key = identifier_summary.customer_key
