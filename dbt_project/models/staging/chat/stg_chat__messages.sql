with source as (
    {{ deduplicate_latest(source('chat', 'chat_messages'), ['message_id']) }}
),

renamed as (
    select
        message_id,
        conversation_id,
        cast(message_index as integer) as message_index,
        cast(sent_at as timestamp) as sent_at,
        lower(author) as author,
        text as message_text,
        _source_file,
        _load_id
    from source
)

select * from renamed
