{#- Every call leg with the first leg of its call (root_call_id), following parent_call_id up to
    var('max_transfer_depth') legs: all legs of a call, transfers included, stay one contact. -#}
{% set depth = var('max_transfer_depth') %}

with legs as (
    select * from {{ ref('stg_phone_system__calls') }}
),

chained as (
    select
        leg_0.call_id,
        coalesce(
            {%- for level in range(depth, 0, -1) %} leg_{{ level }}.call_id,{% endfor %} leg_0.call_id
        ) as root_call_id,
        case
            {%- for level in range(depth, 0, -1) %}
            when leg_{{ level }}.call_id is not null then {{ level }}
            {%- endfor %}
            else 0
        end as transfer_depth
    from legs as leg_0
    {% for level in range(1, depth + 1) -%}
    left join legs as leg_{{ level }} on leg_{{ level - 1 }}.parent_call_id = leg_{{ level }}.call_id
    {% endfor %}
),

children as (
    select parent_call_id, count(*) as transfers_out, min(started_at) as first_transfer_at
    from legs
    where parent_call_id is not null
    group by parent_call_id
)

-- Phone numbers stay in staging: identity comes from int_records_customers.
select
    legs.call_id,
    legs.parent_call_id,
    legs.direction,
    legs.customer_ref,
    legs.queue,
    legs.agent_id,
    legs.started_at,
    legs.queued_at,
    legs.answered_at,
    legs.ended_at,
    legs.hold_seconds,
    legs.silence_seconds,
    legs.wrap_seconds,
    legs.status,
    legs.disposition,
    legs.is_resolved,
    chained.root_call_id,
    -- Who started the call: a leg transferred from an inbound call is still the customer's call.
    root_legs.direction as root_direction,
    chained.transfer_depth,
    coalesce(children.transfers_out, 0) as transfers_out,
    children.first_transfer_at,
    legs._load_seq
from legs
inner join chained on legs.call_id = chained.call_id
inner join legs as root_legs on chained.root_call_id = root_legs.call_id
left join children on legs.call_id = children.parent_call_id
