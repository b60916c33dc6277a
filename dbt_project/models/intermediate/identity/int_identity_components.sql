{#- Connected components of the identifier graph by iterative min-label propagation: each identifier takes
    the smallest label among itself and its neighbours, var('identity_max_hops') times (unrolled, so it builds
    on adapters without recursive CTEs). A test checks convergence: no edge joins two labels. -#}
{% set hops = var('identity_max_hops') %}

with usable as (
    select occurrences.record_type, occurrences.record_id, occurrences.identifier_node
    from {{ ref('int_identifier_occurrences') }} as occurrences
    inner join {{ ref('int_identifiers_classified') }} as classified
        on occurrences.identifier_node = classified.identifier_node
    where not classified.is_blocked
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
    select identifier_node, row_number() over (order by identifier_node) as node_number
    from {{ ref('int_identifiers_classified') }}
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
        coalesce(labels.label, node_numbers.node_number) as label_number
    from node_numbers
    left join labels_{{ hops }} as labels on node_numbers.node_number = labels.node
)

select
    final_labels.identifier_node,
    label_nodes.identifier_node as component_label
from final_labels
inner join node_numbers as label_nodes on final_labels.label_number = label_nodes.node_number
