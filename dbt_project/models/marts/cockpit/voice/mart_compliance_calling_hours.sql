-- Outbound call legs placed outside 08:00-21:00 in the customer's local time (US TCPA calling hours), one row
-- each; a leg whose customer has no known time zone is listed as 'unknown_timezone' rather than guessed.
with outbound as (
    select
        legs.call_id,
        legs.started_at,
        legs.agent_id,
        legs.status,
        transactions.customer_key,
        customers.customer_ref,
        customers.timezone
    from {{ ref('int_call_legs_chained') }} as legs
    inner join {{ ref('fct_transactions') }} as transactions
        on transactions.transaction_id = 'call:' || legs.call_id
    left join {{ ref('dim_customers') }} as customers on transactions.customer_key = customers.customer_key
    where legs.direction = 'outbound'
),

localized as (
    select
        *,
        case when timezone is not null then {{ convert_from_utc('started_at', 'timezone') }} end as local_started_at
    from outbound
)

select
    call_id,
    started_at,
    local_started_at,
    cast({{ dbt.date_trunc('day', 'local_started_at') }} as date) as local_date,
    extract(hour from local_started_at) as local_hour,
    customer_key,
    customer_ref,
    timezone,
    agent_id,
    status,
    case when timezone is null then 'unknown_timezone' else 'outside_hours' end as calling_hours_status
from localized
where timezone is null or extract(hour from local_started_at) < 8 or extract(hour from local_started_at) >= 21
