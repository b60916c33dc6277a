-- Fails the build when, for an export, more than var('max_duplicate_key_share') of the rows loaded repeat a
-- key already seen in the same file. Staging keeps one row per key (the last line of the latest load), so
-- such rows vanish from every model: a share above the threshold means the export's key is not a key (a bank
-- log whose call_id repeats), and the numbers built on it would be silently short. Re-deliveries in other
-- files are not counted here: replacing an earlier file's rows is intended.
select
    export,
    sum(rows_loaded) as rows_loaded,
    sum(rows_duplicate) as rows_duplicate,
    sum(rows_duplicate) * 1.0 / sum(rows_loaded) as duplicate_share,
    {{ var('max_duplicate_key_share') }} as max_duplicate_key_share
from {{ ref('stg_loading__load_ledger') }}
where load_status = 'loaded' and rows_duplicate is not null
group by export
having sum(rows_loaded) > 0
    and sum(rows_duplicate) * 1.0 / sum(rows_loaded) > {{ var('max_duplicate_key_share') }}
