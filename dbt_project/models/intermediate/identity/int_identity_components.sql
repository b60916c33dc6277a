{#- Connected components of the identifier graph by iterative min-label propagation: each identifier takes
    the smallest label among itself and its neighbours, var('identity_max_hops') times (unrolled, so it builds
    on adapters without recursive CTEs). A test checks convergence: no edge joins two labels.
    Incremental by component (DECISIONS.md "Identity resolution incremental by record, identifier and
    component"): the pre-hook deletes the components an identifier's change can reach; a nightly run computes only
    the identifiers left without a row, which form whole components, and keeps the others' rows. _computed_at marks
    the rows a run computed: int_records_customers rebuilds the records of the components computed after its own
    newest row. -#}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    pre_hook="{{ delete_touched_components() }}",
) }}
{% set hops = var('identity_max_hops') %}

-- The identifiers to compute: all of them, or on a nightly run those without a row (after the pre-hook). A usable
-- identifier's links all lead to identifiers of the same set, so the set's records hold every link it needs.
with to_build as (
    select
        classified.identifier_node,
        classified.is_blocked,
        {{ component_fingerprint('classified') }} as input_fingerprint
    from {{ ref('int_identifiers_classified') }} as classified
    {%- if is_incremental() %}
    left join {{ this }} as built on classified.identifier_node = built.identifier_node
    where built.identifier_node is null
    {%- endif %}
),

usable as (
    select occurrences.record_type, occurrences.record_id, occurrences.identifier_node
    from {{ ref('int_identifier_occurrences') }} as occurrences
    inner join to_build on occurrences.identifier_node = to_build.identifier_node
    where not to_build.is_blocked
),

-- A record links its identifiers in a star around its smallest one: same components, fewer edges than pairs.
record_hubs as (
    select record_type, record_id, min(identifier_node) as hub_node
    from usable
    group by record_type, record_id
),

edges as (
    select distinct usable.identifier_node as node, record_hubs.hub_node as neighbour
    from usable
    inner join record_hubs
        on usable.record_type = record_hubs.record_type and usable.record_id = record_hubs.record_id
    where usable.identifier_node <> record_hubs.hub_node
    union
    select distinct record_hubs.hub_node, usable.identifier_node
    from usable
    inner join record_hubs
        on usable.record_type = record_hubs.record_type and usable.record_id = record_hubs.record_id
    where usable.identifier_node <> record_hubs.hub_node
),

-- Propagation runs on integers numbered in identifier order (the smallest number is the smallest identifier),
-- and only on identifiers with an edge: joining 64-character hashes twelve times spilled gigabytes at 10 million
-- events. An identifier without edges is a component of its own.
node_numbers as (
    select identifier_node, input_fingerprint, row_number() over (order by identifier_node) as node_number
    from to_build
),

numbered_edges as (
    select nodes.node_number as node, neighbours.node_number as neighbour
    from edges
    inner join node_numbers as nodes on edges.node = nodes.identifier_node
    inner join node_numbers as neighbours on edges.neighbour = neighbours.identifier_node
),

-- Every node is its own neighbour too: a hop then takes the smallest label over its looped edges, reading the
-- previous hop once (read twice, the unrolled hops double the plan at each hop: Spark never finished planning).
looped_edges as (
    select node, neighbour from numbered_edges
    union all
    select distinct node, node as neighbour from numbered_edges
),

labels_0 as (
    select distinct node, node as label
    from numbered_edges
),

{% for hop in range(1, hops + 1) %}
labels_{{ hop }} as (
    select edges.node, min(neighbour_labels.label) as label
    from looped_edges as edges
    inner join labels_{{ hop - 1 }} as neighbour_labels on edges.neighbour = neighbour_labels.node
    group by edges.node
),
{% endfor %}

final_labels as (
    select
        node_numbers.identifier_node,
        node_numbers.input_fingerprint,
        coalesce(labels.label, node_numbers.node_number) as label_number
    from node_numbers
    left join labels_{{ hops }} as labels on node_numbers.node_number = labels.node
)

select
    final_labels.identifier_node,
    label_nodes.identifier_node as component_label,
    final_labels.input_fingerprint as _input_fingerprint,
    {{ identity_run_marker() }} as _computed_at
from final_labels
inner join node_numbers as label_nodes on final_labels.label_number = label_nodes.node_number
