with source as (
    select * from {{ source('loading', '_load_ledger') }}
),

renamed as (
    select
        load_id,
        load_seq,
        export,
        file_path,
        file_sha256,
        file_bytes,
        rows_read,
        rows_loaded,
        rows_rejected,
        status as load_status,
        message,
        loaded_at
    from source
)

select * from renamed
