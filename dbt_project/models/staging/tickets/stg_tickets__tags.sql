{{ config(
    materialized=incremental_or_table(),
    unique_key=['ticket_id'],
    pre_hook="{{ drop_redelivered_children(source('tickets', 'tickets'), 'ticket_id') }}",
) }}

with source as (
    {{ latest_delivery_children(source('tickets', 'ticket_tags'), source('tickets', 'tickets'), 'ticket_id') }}
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
