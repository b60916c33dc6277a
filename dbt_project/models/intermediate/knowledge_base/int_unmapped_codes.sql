-- Codes seen in the data that the knowledge base does not map: the list to complete it from.
select
    code_type || ':' || code as intent_code_id,
    code_type,
    code,
    count(*) as occurrences,
    count(distinct record_id) as records,
    min(seen_at) as first_seen_at,
    max(seen_at) as last_seen_at
from {{ ref('int_contact_codes') }}
where not is_mapped
group by code_type, code
