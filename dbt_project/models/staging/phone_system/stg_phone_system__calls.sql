{%- set natural_key = ['call_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('phone_system', 'calls'), natural_key) }}
),

renamed as (
    select
        call_id,
        parent_call_id,
        lower(direction) as direction,
        -- E.164 forms and identifier hashes computed by the loader (contact_warehouse/enrichment).
        from_number_e164 as from_phone,
        from_number as from_number_raw,
        to_number_e164 as to_phone,
        to_number as to_number_raw,
        from_number_node as from_phone_node,
        to_number_node as to_phone_node,
        customer_ref,
        customer_ref_node,
        queue,
        agent_id,
        cast(started_at as timestamp) as started_at,
        cast(queued_at as timestamp) as queued_at,
        cast(answered_at as timestamp) as answered_at,
        cast(ended_at as timestamp) as ended_at,
        cast(hold_seconds as integer) as hold_seconds,
        cast(silence_seconds as integer) as silence_seconds,
        cast(wrap_seconds as integer) as wrap_seconds,
        lower(status) as status,
        disposition,
        resolved as is_resolved,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
