{{ config(
    materialized=incremental_or_table(),
    unique_key=['conversation_id'],
    pre_hook="{{ drop_redelivered_children(source('chat', 'chat_conversations'), 'conversation_id') }}",
) }}

with source as (
    {{ latest_delivery_children(source('chat', 'chat_tags'), source('chat', 'chat_conversations'), 'conversation_id') }}
),

renamed as (
    select
        conversation_id || '-' || cast(tag_index as {{ dbt.type_string() }}) as conversation_tag_id,
        conversation_id,
        cast(tag_index as integer) as tag_index,
        tag,
        _load_seq
    from source
)

select * from renamed
