with source as (
    select * from {{ source('loading', '_duplicate_keys') }}
),

renamed as (
    select
        load_id,
        export,
        raw_table,
        file_path,
        key_columns,
        key_value,
        occurrences,
        first_line,
        kept_line,
        loaded_at
    from source
)

select * from renamed
