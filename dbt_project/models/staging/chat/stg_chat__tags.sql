{%- set natural_key = ['conversation_id', 'tag_index'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('chat', 'chat_tags'), natural_key) }}
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
