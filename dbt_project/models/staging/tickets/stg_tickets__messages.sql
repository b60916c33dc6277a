{%- set natural_key = ['message_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

-- A ticket's comments (the export's `comments`): a help desk never deletes one, so the latest delivery of each
-- comment id is the comment.
with source as (
    {{ deduplicate_latest(source('tickets', 'ticket_comments'), ['comment_id']) }}
),

renamed as (
    select
        comment_id as message_id,
        ticket_id,
        cast(comment_index as integer) as message_index,
        cast(created_at as timestamp) as sent_at,
        lower(author_role) as author_role,
        author_id,
        public as is_public,
        body as message_text,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
