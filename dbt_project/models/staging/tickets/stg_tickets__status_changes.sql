{{ config(
    materialized=incremental_or_table(),
    unique_key=['ticket_id'],
    pre_hook="{{ drop_redelivered_children(source('tickets', 'tickets'), 'ticket_id') }}",
) }}

-- A ticket's status history (the audits' status changes) as its latest delivery tells it.
with source as (
    {{ latest_delivery_children(
        source('tickets', 'ticket_status_changes'), source('tickets', 'tickets'), 'ticket_id'
    ) }}
),

renamed as (
    select
        ticket_id || '-' || cast(change_index as {{ dbt.type_string() }}) as status_change_id,
        ticket_id,
        cast(change_index as integer) as change_index,
        cast(changed_at as timestamp) as changed_at,
        lower(author_role) as author_role,
        lower(previous_value) as previous_status,
        lower(value) as status,
        _load_seq
    from source
)

select * from renamed
