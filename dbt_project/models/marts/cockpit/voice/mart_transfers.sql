-- Transfer rate per period, first queue and intent: answered inbound calls (all legs of a call together) with at
-- least one transfer / answered inbound calls (docs/domain.md section 5). A call is dated by its first leg. Outbound
-- calls (callbacks, campaigns) are left out: they are the company's contacts and are never transferred, so
-- counting them would dilute the rate.
with legs as (
    select * from {{ ref('int_call_legs_chained') }}
),

calls as (
    select
        root_call_id,
        min(started_at) as started_at,
        max(case when call_id = root_call_id then queue end) as first_queue,
        max(case when answered_at is not null then 1 else 0 end) = 1 as is_answered,
        max(case when transfers_out > 0 then 1 else 0 end) = 1 as has_transfer
    from legs
    where root_direction = 'inbound'
    group by root_call_id
),

daily as (
    select
        {{ reporting_date('calls.started_at') }} as activity_date,
        coalesce(calls.first_queue, 'none') as queue,
        coalesce(transactions.intent, 'unknown') as intent,
        sum(case when calls.is_answered then 1 else 0 end) as transfer_answered_calls,
        sum(case when calls.is_answered and calls.has_transfer then 1 else 0 end) as transferred_calls
    from calls
    left join {{ ref('fct_transactions') }} as transactions
        on transactions.transaction_id = 'call:' || calls.root_call_id
    group by 1, 2, 3
),

rolled_up as (
    {{ period_rollup('daily', ['queue', 'intent'], ['transfer_answered_calls', 'transferred_calls']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || queue || '|'
            || intent") }}
        as transfers_key,
    rolled_up.*,
    -- The semantic layer's metric (macro metric_sql), not a formula of its own.
    {{ metric_sql('transfer_rate') }} as transfer_rate
from rolled_up
