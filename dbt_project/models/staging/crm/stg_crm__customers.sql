{%- set natural_key = ['customer_ref'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('crm', 'customers'), natural_key) }}
),

renamed as (
    select
        customer_ref,
        {{ normalize_email('email') }} as email,
        -- E.164 form and identifier hashes computed by the loader (contact_warehouse/enrichment).
        phone_e164 as phone,
        phone as phone_raw,
        customer_ref_node,
        email_node,
        phone_node,
        lower(value_tier) as value_tier,
        timezone,
        cast(created_at as timestamp) as created_at,
        cast(churned_at as timestamp) as churned_at,
        _load_seq
    from source
)

select * from renamed
