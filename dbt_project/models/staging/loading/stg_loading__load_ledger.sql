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
        -- Ledgers written before the column existed counted no filtered rows.
        coalesce(rows_filtered, 0) as rows_filtered,
        rows_duplicate,
        status as load_status,
        coalesce(reason, nullif(message, '')) as reason,
        message,
        loaded_at,
        profile as mapping_profile
    from source
)

select * from renamed
