-- One row per call entering the IVR: time in menus, the path of menus, how it ended, where it dropped, and
-- whether a contained call stayed contained: true containment leaves out contained calls followed by any
-- assisted contact of the same customer within var('deflection_window_hours') (docs/domain.md section 5).
-- Incremental by customer (macros/incremental_ivr.sql): the pre-hook deletes the customers whose transactions
-- changed or whose calls have new IVR events; a nightly run builds the IVR calls of the customers without rows.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_ivr_call_customers() }}",
) }}
-- depends_on: {{ ref('int_customer_fingerprints') }}
with ivr_transactions as (
    select
        transactions.source_id as call_id,
        transactions.customer_key,
        transactions.outcome,
        transactions.effective_intent as intent,
        {{ ivr_calls_fingerprint('transactions._input_fingerprint') }} as _input_fingerprint
    from {{ ref('fct_transactions') }} as transactions
    {%- if is_incremental() %}
    left join (select distinct customer_key from {{ this }}) as built
        on transactions.customer_key = built.customer_key
    {%- endif %}
    where transactions.transaction_type = 'ivr'
    {%- if is_incremental() %}
        and built.customer_key is null
    {%- endif %}
),

events as (
    select * from {{ ref('stg_phone_system__ivr_events') }}
    {%- if is_incremental() %}
    where call_id in (select call_id from ivr_transactions)
    {%- endif %}
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
        max(events.event_at) as ended_at,
        max(events._load_seq) as _load_seq
    from events
    group by events.call_id
),

paths as (
    select call_id, {{ ordered_path('node', 'seq') }} as node_path, count(*) as menus_visited
    from menus
    group by call_id
),

-- Only a contact the customer started shows the IVR did not really contain the call: a reminder text or a
-- callback afterwards is the company's.
assisted as (
    select customer_key, started_at
    from {{ ref('fct_transactions') }}
    where is_assisted and is_customer_initiated
    {%- if is_incremental() %}
        and customer_key in (select customer_key from ivr_transactions)
    {%- endif %}
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
    ivr_transactions.outcome = 'contained' and followed.call_id is null as is_truly_contained,
    calls._load_seq,
    ivr_transactions._input_fingerprint
from calls
inner join ivr_transactions on calls.call_id = ivr_transactions.call_id
left join paths on calls.call_id = paths.call_id
left join menus as last_menu on calls.call_id = last_menu.call_id and last_menu.recency_rank = 1
left join followed on calls.call_id = followed.call_id
