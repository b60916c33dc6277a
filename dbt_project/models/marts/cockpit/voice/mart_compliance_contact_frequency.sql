-- Customers with more than var('max_attempts_per_7_days') outbound call attempts in any 7 consecutive days
-- (Regulation F's 7-in-7 presumption): one row per attempt that falls in an over-limit window, with the
-- customer, the start of the busiest such window and its attempt count. A window starts at each attempt and
-- covers [attempt, attempt + 7 days).
with attempts as (
    select
        legs.call_id,
        legs.started_at,
        transactions.customer_key
    from {{ ref('int_call_legs_chained') }} as legs
    inner join {{ ref('fct_transactions') }} as transactions
        on transactions.transaction_id = 'call:' || legs.call_id
    where legs.direction = 'outbound'
),

windows as (
    select
        anchor.customer_key,
        anchor.started_at as window_start,
        count(*) as attempts_in_window
    from attempts as anchor
    inner join attempts as other
        on anchor.customer_key = other.customer_key
        and other.started_at >= anchor.started_at
        and other.started_at < {{ add_days('anchor.started_at', 7) }}
    group by anchor.customer_key, anchor.started_at
),

over_limit as (
    select * from windows where attempts_in_window > {{ var('max_attempts_per_7_days') }}
),

offending as (
    select
        attempts.call_id,
        attempts.started_at,
        attempts.customer_key,
        over_limit.window_start,
        over_limit.attempts_in_window,
        row_number() over (
            partition by attempts.call_id order by over_limit.attempts_in_window desc, over_limit.window_start
        ) as window_rank
    from attempts
    inner join over_limit
        on attempts.customer_key = over_limit.customer_key
        and attempts.started_at >= over_limit.window_start
        and attempts.started_at < {{ add_days('over_limit.window_start', 7) }}
),

customer_max as (
    select customer_key, max(attempts_in_window) as max_attempts_in_7_days
    from windows
    group by customer_key
)

select
    offending.call_id,
    offending.started_at,
    offending.customer_key,
    customers.customer_ref,
    offending.window_start,
    offending.attempts_in_window,
    customer_max.max_attempts_in_7_days
from offending
inner join customer_max on offending.customer_key = customer_max.customer_key
left join {{ ref('dim_customers') }} as customers on offending.customer_key = customers.customer_key
where offending.window_rank = 1
