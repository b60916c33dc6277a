{%- set natural_key = ['call_id', 'seq'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('phone_system', 'ivr_events'), natural_key) }}
),

renamed as (
    select
        call_id || '-' || cast(seq as {{ dbt.type_string() }}) as ivr_event_id,
        call_id,
        cast(seq as integer) as seq,
        cast(event_at as timestamp) as event_at,
        node,
        lower(event_type) as event_type,
        key as pressed_key,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
