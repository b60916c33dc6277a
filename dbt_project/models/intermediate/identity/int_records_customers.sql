-- The customer (customer_key) of every record: the component of its usable identifiers. A record whose only
-- identifiers are blocked (a switchboard number) is a customer of its own, keyed by the record: two calls from
-- the same switchboard are two strangers, not one customer (DECISIONS.md). A record with no identifier at all is
-- an anonymous customer of its own (int_transactions_enriched).
-- Incremental by record (DECISIONS.md "int_records_customers incremental by record"): a record's customer depends
-- only on the components of its identifiers and on whether they are blocked, and int_identity_components computes
-- again every component whose identifiers, records or blocking changed (_computed_at). A nightly run rebuilds the
-- records carrying an identifier of a component computed after this model's newest row (the pre-hook deletes their
-- rows, and those of re-delivered records left without identifiers); the other rows are kept.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    pre_hook="{{ delete_records_of_recomputed_components() }}",
) }}
{#- The pre-hook reads the staging models of the identity records: ref() them here, where dbt sees it. -#}
{%- for record_type, model, key in identity_records() %}{% do ref(model) %}{% endfor %}

with
{%- if is_incremental() %}
-- The pre-hook deleted every record of such a component (records_of_recomputed_components says why none is left).
records_to_build as (
    {{ records_of_recomputed_components() }}
),

occurrences as (
    select all_occurrences.*
    from {{ ref('int_identifier_occurrences') }} as all_occurrences
    inner join records_to_build
        on all_occurrences.record_type = records_to_build.record_type
        and all_occurrences.record_id = records_to_build.record_id
),
{%- else %}
occurrences as (
    select * from {{ ref('int_identifier_occurrences') }}
),
{%- endif %}

-- The newest load the identifiers come from, when the rows are built: the pre-hook looks for re-delivered records
-- left without an identifier among the loads after it.
newest_load as (
    select max(_load_seq) as load_seq from {{ ref('int_identifier_occurrences') }}
),

classified as (
    select * from {{ ref('int_identifiers_classified') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
),

per_record as (
    select
        occurrences.record_type,
        occurrences.record_id,
        min(case when not classified.is_blocked then components.component_label end) as usable_label,
        max(components._computed_at) as _components_computed_at
    from occurrences
    inner join classified on occurrences.identifier_node = classified.identifier_node
    inner join components on occurrences.identifier_node = components.identifier_node
    group by occurrences.record_type, occurrences.record_id
)

select
    record_type,
    record_id,
    {{ dbt.hash("coalesce(usable_label, 'ambiguous:' || record_type || ':' || record_id)") }} as customer_key,
    usable_label is null as is_ambiguous,
    _components_computed_at,
    newest_load.load_seq as _newest_load_seq
from per_record
cross join newest_load
