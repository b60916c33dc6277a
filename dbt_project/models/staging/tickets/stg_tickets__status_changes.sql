{%- set natural_key = ['ticket_id', 'change_index'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

-- A ticket's status history (the audits' status changes), append-only like the audits it comes from.
with source as (
    {{ deduplicate_latest(source('tickets', 'ticket_status_changes'), natural_key) }}
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
