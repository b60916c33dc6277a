with source as (
    {{ deduplicate_latest(source('help_center', 'faq_articles'), ['article_id']) }}
),

renamed as (
    select
        article_id,
        title,
        section,
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
