{%- set natural_key = ['view_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('help_center', 'faq_views'), natural_key) }}
),

renamed as (
    select
        view_id,
        article_id,
        visitor_id,
        customer_ref,
        visitor_id_node,
        customer_ref_node,
        cast(viewed_at as timestamp) as viewed_at,
        cast(seconds_on_page as integer) as seconds_on_page,
        nullif(lower(vote), '') as vote,
        search_query,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
