with source as (
    select * from {{ source('loading', '_quarantine') }}
),

renamed as (
    select
        load_id,
        export,
        raw_table,
        file_path,
        line,
        field,
        reason,
        raw_record,
        quarantined_at
    from source
)

select * from renamed
