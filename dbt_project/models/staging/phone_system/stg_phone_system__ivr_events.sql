with source as (
    {{ deduplicate_latest(source('phone_system', 'ivr_events'), ['call_id', 'seq']) }}
),

renamed as (
    select
        call_id || '-' || cast(seq as varchar) as ivr_event_id,
        call_id,
        cast(seq as integer) as seq,
        cast(event_at as timestamp) as event_at,
        node,
        lower(event_type) as event_type,
        key as pressed_key,
        _source_file,
        _load_id
    from source
)

select * from renamed
