with source as (
    {{ deduplicate_latest(source('chat', 'chat_tags'), ['conversation_id', 'tag_index']) }}
),

renamed as (
    select
        conversation_id || '-' || cast(tag_index as varchar) as conversation_tag_id,
        conversation_id,
        cast(tag_index as integer) as tag_index,
        tag
    from source
)

select * from renamed
