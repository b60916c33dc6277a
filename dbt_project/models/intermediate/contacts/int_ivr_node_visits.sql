-- One row per visit of an IVR menu (a menu_enter event with a node): its dwell, from entering the node to the call's
-- next menu, or to the call's last IVR event (mart_ivr_node_dwell sums them per day and node).
-- Incremental by call (DECISIONS.md "int_ivr_node_visits incremental by call"): a visit depends only on its call's
-- IVR events, and an event never leaves its call (staging's key is call_id and seq). The pre-hook deletes the calls
-- with IVR events of a load after the newest one the model read; the model builds those calls again.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_ivr_calls_with_new_events() }}",
) }}
with events as (
    select * from {{ ref('stg_phone_system__ivr_events') }}
    {%- if is_incremental() %}
    where call_id in ({{ ivr_calls_with_new_events() }})
    {%- endif %}
),

last_events as (
    select call_id, max(event_at) as last_event_at, max(_load_seq) as _load_seq
    from events
    group by call_id
),

menus as (
    select
        ivr_event_id,
        call_id,
        node,
        event_at,
        lead(event_at) over (partition by call_id order by seq) as next_menu_at
    from events
    where event_type = 'menu_enter' and node is not null
)

select
    menus.ivr_event_id,
    menus.call_id,
    menus.node,
    menus.event_at,
    {{ seconds_between('menus.event_at', 'coalesce(menus.next_menu_at, last_events.last_event_at)') }}
        as dwell_seconds,
    last_events._load_seq
from menus
inner join last_events on menus.call_id = last_events.call_id
