{%- set natural_key = ['message_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('chat', 'chat_messages'), natural_key) }}
),

renamed as (
    select
        message_id,
        conversation_id,
        cast(message_index as integer) as message_index,
        cast(sent_at as timestamp) as sent_at,
        lower(author) as author,
        text as message_text,
        text_sentiment as message_text_sentiment,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
