-- One row per schedule and local day it is open: its opening interval in UTC (docs/domain.md section 6). The
-- local hours are converted day by day in the schedule's own time zone, so a daylight-saving change moves the
-- interval in UTC and never the local hours; a holiday removes the day. Covers var('business_calendar_start') to
-- var('business_calendar_end') (local dates).
with digits as (
    select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

numbers as (
    select ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit as day_number
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
),

days as (
    select
        cast({{ dbt.dateadd('day', 'day_number', "cast('" ~ var('business_calendar_start') ~ "' as date)") }} as date)
            as local_date
    from numbers
    where day_number <= {{ dbt.datediff(
        "cast('" ~ var('business_calendar_start') ~ "' as date)",
        "cast('" ~ var('business_calendar_end') ~ "' as date)", 'day') }}
),

hours as (
    select * from {{ ref('business_hours') }}
),

holidays as (
    select schedule, cast(holiday_date as date) as holiday_date from {{ ref('business_holidays') }}
),

open_days as (
    select
        hours.schedule,
        hours.time_zone,
        days.local_date,
        cast(cast(days.local_date as {{ dbt.type_string() }}) || ' ' || hours.opens_at
                || ':00' as timestamp) as local_opens_at,
        cast(cast(days.local_date as {{ dbt.type_string() }}) || ' ' || hours.closes_at
                || ':00' as timestamp) as local_closes_at
    from days
    inner join hours on {{ iso_weekday('days.local_date') }} = hours.weekday
    left join holidays on hours.schedule = holidays.schedule and days.local_date = holidays.holiday_date
    where holidays.schedule is null
)

select
    schedule || ':' || cast(local_date as {{ dbt.type_string() }}) as interval_id,
    schedule,
    time_zone,
    local_date,
    {{ convert_to_utc('local_opens_at', 'time_zone') }} as opens_at,
    {{ convert_to_utc('local_closes_at', 'time_zone') }} as closes_at
from open_days
