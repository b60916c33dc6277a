-- Every file's rows are accounted for: read = loaded + rejected, and the quarantine holds the rejected ones.
select ledger.load_id, ledger.rows_rejected, count(quarantine.load_id) as quarantined
from {{ ref('stg_loading__load_ledger') }} as ledger
left join {{ ref('stg_loading__quarantine') }} as quarantine on ledger.load_id = quarantine.load_id
group by ledger.load_id, ledger.rows_read, ledger.rows_loaded, ledger.rows_rejected
having ledger.rows_read <> ledger.rows_loaded + ledger.rows_rejected or ledger.rows_rejected <> count(quarantine.load_id)
