-- Every file's rows are accounted for: read = loaded + rejected + filtered (by a mapping profile), the
-- quarantine holds the rejected ones and the duplicate-key list the rows repeating a key of the same file.
with quarantined as (
    select load_id, count(*) as records
    from {{ ref('stg_loading__quarantine') }}
    group by load_id
),

duplicated as (
    select load_id, sum(occurrences - 1) as records
    from {{ ref('stg_loading__duplicate_keys') }}
    group by load_id
)

select
    ledger.load_id,
    ledger.file_path,
    ledger.rows_read,
    ledger.rows_loaded,
    ledger.rows_rejected,
    ledger.rows_filtered,
    ledger.rows_duplicate,
    coalesce(quarantined.records, 0) as quarantined,
    coalesce(duplicated.records, 0) as duplicated
from {{ ref('stg_loading__load_ledger') }} as ledger
left join quarantined on ledger.load_id = quarantined.load_id
left join duplicated on ledger.load_id = duplicated.load_id
where ledger.rows_read <> ledger.rows_loaded + ledger.rows_rejected + ledger.rows_filtered
    or ledger.rows_rejected <> coalesce(quarantined.records, 0)
    or (ledger.rows_duplicate is not null and ledger.rows_duplicate <> coalesce(duplicated.records, 0))
    or ledger.rows_duplicate > ledger.rows_loaded
