{%- set natural_key = ['article_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('help_center', 'faq_articles'), natural_key) }}
),

renamed as (
    select
        article_id,
        title,
        section,
        cast(updated_at as timestamp) as updated_at,
        _load_seq
    from source
)

select * from renamed
