{%- set natural_key = ['conversation_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('chat', 'chat_conversations'), natural_key) }}
),

renamed as (
    select
        conversation_id,
        cast(created_at as timestamp) as created_at,
        cast(closed_at as timestamp) as closed_at,
        visitor_id,
        {{ normalize_email('visitor_email') }} as visitor_email,
        -- E.164 form and identifier hashes computed by the loader (contact_warehouse/enrichment).
        visitor_phone_e164 as visitor_phone,
        visitor_phone as visitor_phone_raw,
        visitor_customer_ref,
        visitor_id_node,
        visitor_email_node,
        visitor_phone_node,
        visitor_customer_ref_node,
        bot_intent,
        cast(bot_handed_over_at as timestamp) as bot_handed_over_at,
        agent_id,
        cast(rating as integer) as rating,
        resolved as is_resolved,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
