-- The label propagation ran enough hops: every record's usable identifiers ended in one component.
-- A failure means var('identity_max_hops') is too small for this data.
select
    occurrences.record_type,
    occurrences.record_id,
    count(distinct components.component_label) as components
from {{ ref('int_identifier_occurrences') }} as occurrences
inner join {{ ref('int_identifiers_classified') }} as classified
    on occurrences.identifier_node = classified.identifier_node
inner join {{ ref('int_identity_components') }} as components
    on occurrences.identifier_node = components.identifier_node
where not classified.is_blocked
group by occurrences.record_type, occurrences.record_id
having count(distinct components.component_label) > 1
