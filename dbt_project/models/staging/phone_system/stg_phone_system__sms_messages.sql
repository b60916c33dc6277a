{%- set natural_key = ['message_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('phone_system', 'sms'), natural_key) }}
),

renamed as (
    select
        message_id,
        thread_id,
        lower(direction) as direction,
        -- E.164 forms and identifier hashes computed by the loader (contact_warehouse/enrichment).
        from_number_e164 as from_phone,
        from_number as from_number_raw,
        to_number_e164 as to_phone,
        to_number as to_number_raw,
        from_number_node as from_phone_node,
        to_number_node as to_phone_node,
        cast(sent_at as timestamp) as sent_at,
        agent_id,
        body,
        body_sentiment,
        lower(status) as status,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
