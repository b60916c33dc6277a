-- One row per call entering the IVR: time in menus, the path of menus, how it ended, where it dropped, and
-- whether a contained call stayed contained: true containment leaves out contained calls followed by any
-- assisted contact of the same customer within var('deflection_window_hours') (docs/domain.md section 5).
with events as (
    select * from {{ ref('stg_phone_system__ivr_events') }}
),

menus as (
    select
        call_id,
        node,
        seq,
        row_number() over (partition by call_id order by seq desc) as recency_rank
    from events
    where event_type = 'menu_enter' and node is not null
),

calls as (
    select
        events.call_id,
        min(events.event_at) as started_at,
        max(events.event_at) as ended_at
    from events
    group by events.call_id
),

paths as (
    select call_id, {{ ordered_path('node', 'seq') }} as node_path, count(*) as menus_visited
    from menus
    group by call_id
),

ivr_transactions as (
    select source_id as call_id, customer_key, outcome, effective_intent as intent
    from {{ ref('fct_transactions') }}
    where transaction_type = 'ivr'
),

-- Only a contact the customer started shows the IVR did not really contain the call: a reminder text or a
-- callback afterwards is the company's.
assisted as (
    select customer_key, started_at
    from {{ ref('fct_transactions') }}
    where is_assisted and is_customer_initiated
),

followed as (
    select calls.call_id
    from calls
    inner join ivr_transactions on calls.call_id = ivr_transactions.call_id
    inner join assisted
        on ivr_transactions.customer_key = assisted.customer_key
        and assisted.started_at >= calls.ended_at
        and assisted.started_at < {{ dbt.dateadd('hour', var('deflection_window_hours'), 'calls.ended_at') }}
    where ivr_transactions.outcome = 'contained'
    group by calls.call_id
)

select
    calls.call_id,
    calls.started_at,
    calls.ended_at,
    {{ seconds_between('calls.started_at', 'calls.ended_at') }} as menu_seconds,
    coalesce(paths.node_path, 'none') as node_path,
    coalesce(paths.menus_visited, 0) as menus_visited,
    ivr_transactions.customer_key,
    coalesce(ivr_transactions.intent, 'unknown') as intent,
    ivr_transactions.outcome,
    case when ivr_transactions.outcome = 'dropped' then last_menu.node end as dropped_at_node,
    ivr_transactions.outcome = 'contained' as is_contained,
    ivr_transactions.outcome = 'contained' and followed.call_id is null as is_truly_contained
from calls
inner join ivr_transactions on calls.call_id = ivr_transactions.call_id
left join paths on calls.call_id = paths.call_id
left join menus as last_menu on calls.call_id = last_menu.call_id and last_menu.recency_rank = 1
left join followed on calls.call_id = followed.call_id
