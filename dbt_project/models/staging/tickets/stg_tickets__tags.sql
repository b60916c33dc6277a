{%- set natural_key = ['ticket_id', 'tag_index'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('tickets', 'ticket_tags'), natural_key) }}
),

renamed as (
    select
        ticket_id || '-' || cast(tag_index as {{ dbt.type_string() }}) as ticket_tag_id,
        ticket_id,
        cast(tag_index as integer) as tag_index,
        tag,
        _load_seq
    from source
)

select * from renamed
