-- Ticket backlog: tickets open (new, open, pending or on hold) at the end of each day of the reporting zone, per
-- group and status, from each ticket's status history (docs/kpis.md "Tickets"). A snapshot, not a count of
-- events: a week's or a month's backlog is its last day's, never a sum.
with changes as (
    select
        changes.ticket_id,
        coalesce(tickets.group_name, 'none') as ticket_group,
        changes.status,
        {{ reporting_date('changes.changed_at') }} as from_date,
        {{ reporting_date(
            "lead(changes.changed_at) over (partition by changes.ticket_id order by changes.change_index)"
        ) }}
            as until_date
    from {{ ref('stg_tickets__status_changes') }} as changes
    inner join {{ ref('stg_tickets__tickets') }} as tickets on changes.ticket_id = tickets.ticket_id
),

bounds as (
    select min(from_date) as first_date, max(coalesce(until_date, from_date)) as last_date from changes
),

digits as (
    select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

days as (
    select cast({{ dbt.dateadd('day', 'ones.digit + 10 * tens.digit + 100 * hundreds.digit', 'bounds.first_date') }}
        as date) as activity_date
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join bounds
    where ones.digit + 10 * tens.digit + 100 * hundreds.digit
        <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}
),

-- The status a ticket ends a day in: the last change on or before that day.
open_at_day_end as (
    select
        days.activity_date,
        changes.ticket_group,
        changes.status
    from days
    inner join changes
        on changes.from_date <= days.activity_date
        and (changes.until_date is null or changes.until_date > days.activity_date)
    where changes.status in ('new', 'open', 'pending', 'hold')
)

select
    {{ dbt.hash("cast(activity_date as " ~ dbt.type_string() ~ ") || '|' || ticket_group || '|'
            || status") }} as backlog_key,
    activity_date,
    ticket_group,
    status,
    cast(count(*) as bigint) as open_tickets
from open_at_day_end
group by activity_date, ticket_group, status
