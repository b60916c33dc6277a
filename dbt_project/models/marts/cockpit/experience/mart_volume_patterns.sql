-- Volume patterns per intent, weekday and hour of day over the whole data range, in the reporting time zone
-- (docs/domain.md section 5). Contacts are interactions started.
--   weekday_dates     = dates of that weekday whose hour lies inside the data range (first to last hour with
--                       data); a date without contacts at that hour counts, it had zero. Counting hours, not whole
--                       dates, keeps a partial first or last day (US evenings spill into the next UTC date) from
--                       diluting every other hour of its weekday;
--   contacts_per_day  = contacts / weekday_dates;
--   hour_mean_contacts_per_day = mean over the weekdays of the intent's contacts per day at that hour, a weekday
--                       without contacts at that hour counting as 0 (over the 7 weekdays once the data spans a
--                       week; over the weekdays whose hour the data covers before that);
--   weekday_hour_ratio = contacts_per_day / hour_mean_contacts_per_day: 3.0 means three times the intent's usual
--                       volume at that hour of the week (the Monday login spike).
-- Only cells with contacts have a row. Within each weekday and hour the intents are ranked by the ratio (then by
-- contacts, then by name, so the rank is unique), intents with fewer than var('volume_pattern_min_hour_contacts')
-- contacts at that hour over the whole range after the others: one stray contact of a rare intent on a Monday
-- makes a ratio of 7 (all its volume on one weekday) and would otherwise outrank any real spike.
{%- set local_started_at = 'started_at' if var('reporting_timezone') | upper == 'UTC'
    else convert_from_utc('started_at', "'" ~ var('reporting_timezone') ~ "'") %}
{%- set monday = "cast('1900-01-01' as date)" %}  {#- a Monday before any data: day counts stay positive -#}
{%- set min_hour_contacts = var('volume_pattern_min_hour_contacts') %}

with interactions as (
    select
        coalesce(intent, 'unknown') as intent,
        {{ reporting_date('started_at') }} as activity_date,
        cast(extract(hour from {{ local_started_at }}) as integer) as hour_of_day
    from {{ ref('fct_interactions') }}
),

slotted as (
    -- Hours since a known Monday 00:00: ISO weekday (1 = Monday .. 7 = Sunday) and hour of the week follow
    -- from it portably, unlike day-of-week codes, which differ between databases.
    select
        intent,
        hour_of_day,
        {{ dbt.datediff(monday, 'activity_date', 'day') }} * 24 + hour_of_day as hour_number
    from interactions
),

data_range as (
    select
        min(hour_number) as first_hour_number,
        max(hour_number) - min(hour_number) + 1 as range_hours
    from slotted
),

week_hours as (
    select cast(generated_number as integer) - 1 as hour_of_week
    from ({{ dbt.generate_series(168) }}) as series
),

week_hour_dates as (
    -- How many times each hour of the week occurs in the data range.
    select
        week_hours.hour_of_week,
        case
            when mod(week_hours.hour_of_week - mod(data_range.first_hour_number, 168) + 168, 168)
                < data_range.range_hours
                then cast(floor(
                    (data_range.range_hours - 1
                        - mod(week_hours.hour_of_week - mod(data_range.first_hour_number, 168) + 168, 168)) / 168.0
                ) as integer) + 1
            else 0
        end as weekday_dates
    from week_hours
    cross join data_range
),

slots as (
    select
        cast(floor(hour_of_week / 24.0) as integer) + 1 as iso_weekday,
        mod(hour_of_week, 24) as hour_of_day,
        weekday_dates
    from week_hour_dates
),

hour_weekdays as (
    select hour_of_day, sum(case when weekday_dates > 0 then 1 else 0 end) as weekdays_covered
    from slots
    group by hour_of_day
),

cells as (
    select
        intent,
        mod(hour_number, 168) as hour_of_week,
        count(*) as contacts
    from slotted
    group by intent, mod(hour_number, 168)
),

per_day as (
    select
        cells.intent,
        slots.iso_weekday,
        slots.hour_of_day,
        cast(cells.contacts as bigint) as contacts,
        slots.weekday_dates,
        {{ safe_ratio('cells.contacts', 'slots.weekday_dates') }} as contacts_per_day
    from cells
    inner join slots
        on cells.hour_of_week = (slots.iso_weekday - 1) * 24 + slots.hour_of_day
),

hour_means as (
    select
        per_day.intent,
        per_day.hour_of_day,
        cast(sum(per_day.contacts) as bigint) as hour_contacts,
        {{ safe_ratio('sum(per_day.contacts_per_day)', 'max(hour_weekdays.weekdays_covered)') }}
            as hour_mean_contacts_per_day
    from per_day
    inner join hour_weekdays on per_day.hour_of_day = hour_weekdays.hour_of_day
    group by per_day.intent, per_day.hour_of_day
),

ratios as (
    select
        per_day.*,
        hour_means.hour_contacts,
        hour_means.hour_mean_contacts_per_day,
        {{ safe_ratio('per_day.contacts_per_day', 'hour_means.hour_mean_contacts_per_day') }} as weekday_hour_ratio
    from per_day
    inner join hour_means
        on per_day.intent = hour_means.intent and per_day.hour_of_day = hour_means.hour_of_day
)

select
    {{ dbt.hash("intent || '|' || cast(iso_weekday as " ~ dbt.type_string() ~ ") || '|'
            || cast(hour_of_day as " ~ dbt.type_string() ~ ")") }}
        as volume_pattern_key,
    intent,
    iso_weekday,
    case iso_weekday
        when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday' when 4 then 'Thursday'
        when 5 then 'Friday' when 6 then 'Saturday' else 'Sunday'
    end as weekday_name,
    hour_of_day,
    contacts,
    weekday_dates,
    contacts_per_day,
    hour_contacts,
    hour_mean_contacts_per_day,
    weekday_hour_ratio,
    -- A ratio is only a pattern when the cell itself, not just its hour, holds enough contacts: a 5-contact cell
    -- beside a busy hour would otherwise rank first on noise.
    hour_contacts >= {{ min_hour_contacts }} and contacts >= {{ var('volume_pattern_min_cell_contacts') }}
        as has_enough_volume,
    row_number() over (
        partition by iso_weekday, hour_of_day
        order by
            case
                when hour_contacts >= {{ min_hour_contacts }}
                    and contacts >= {{ var('volume_pattern_min_cell_contacts') }} then 0
                else 1
            end,
            -- To 9 decimals: ratios equal in exact arithmetic differ in their last bits by the order an engine
            -- sums the means in, and ranked by that noise (8 ranks differed between DuckDB and PostgreSQL on the
            -- engine increment test); equal ratios go to the next keys instead. floor(x + 0.5), not round():
            -- PostgreSQL has no round() of a double to a number of decimals.
            floor(weekday_hour_ratio * 1000000000 + 0.5) desc,
            contacts desc,
            intent
    ) as ratio_rank
from ratios
