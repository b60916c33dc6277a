-- The label propagation ran enough hops: every record's usable identifiers ended in one component.
-- A failure means var('identity_max_hops') is too small for this data.
-- Checked on the records that int_records_customers built last: those built with the components of the latest run
-- that computed any (int_identity_components._computed_at), and those built with the newest load (_newest_load_seq,
-- so that the records of an earlier night whose int_records_customers failed are checked when it builds them). A
-- full build gives every row the same markers. Every record carrying an identifier of a component the latest run
-- computed is one of them (int_records_customers rebuilds it); any other record kept its identifiers, their
-- blocking and their labels since an earlier run, whose build checked it (DECISIONS.md "The identity convergence
-- test reads the records a run rebuilt").
with records_checked as (
    select records.record_type, records.record_id
    from {{ ref('int_records_customers') }} as records
    where
        records._components_computed_at = (select max(_computed_at) from {{ ref('int_identity_components') }})
        or records._newest_load_seq = (select max(_newest_load_seq) from {{ ref('int_records_customers') }})
)

-- The occurrences of those records first: the distinct (a no-op, the occurrences' key is unique) keeps the engine from
-- joining every occurrence to the identifiers before the restriction (DuckDB does, measured: 2x the CPU at 120 days).
select
    occurrences.record_type,
    occurrences.record_id,
    count(distinct components.component_label) as components
from (
    select distinct occurrences.record_type, occurrences.record_id, occurrences.identifier_node
    from {{ ref('int_identifier_occurrences') }} as occurrences
    inner join records_checked
        on occurrences.record_type = records_checked.record_type
        and occurrences.record_id = records_checked.record_id
) as occurrences
inner join {{ ref('int_identifiers_classified') }} as classified
    on occurrences.identifier_node = classified.identifier_node
inner join {{ ref('int_identity_components') }} as components
    on occurrences.identifier_node = components.identifier_node
where not classified.is_blocked
group by occurrences.record_type, occurrences.record_id
having count(distinct components.component_label) > 1
