{{ config(
    materialized='incremental',
    unique_key=['ticket_id'],
    pre_hook="{{ drop_redelivered_children(source('tickets', 'tickets'), 'ticket_id') }}",
) }}

with source as (
    {{ latest_delivery_children(source('tickets', 'ticket_tags'), source('tickets', 'tickets'), 'ticket_id') }}
),

renamed as (
    select
        ticket_id || '-' || cast(tag_index as varchar) as ticket_tag_id,
        ticket_id,
        cast(tag_index as integer) as tag_index,
        tag,
        _load_seq
    from source
)

select * from renamed
