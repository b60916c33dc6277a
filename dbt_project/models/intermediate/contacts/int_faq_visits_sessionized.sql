-- FAQ views grouped into visits: views of one visitor less than var('session_gap_minutes') apart.
with views as (
    select
        *,
        coalesce(visitor_id, 'ref:' || customer_ref, 'view:' || view_id) as visitor_key
    from {{ ref('stg_help_center__faq_views') }}
),

with_previous as (
    select
        *,
        lag(viewed_at) over (partition by visitor_key order by viewed_at, view_id) as previous_viewed_at
    from views
),

flagged as (
    select
        *,
        case
            when previous_viewed_at is null then 1
            when viewed_at >= {{ add_minutes('previous_viewed_at', var('session_gap_minutes')) }} then 1
            else 0
        end as is_new_visit
    from with_previous
),

numbered as (
    select
        *,
        cast(sum(is_new_visit) over (
            partition by visitor_key order by viewed_at, view_id rows between unbounded preceding and current row
        ) as bigint) as visit_number
    from flagged
)

select
    numbered.*,
    first_value(view_id) over (
        partition by visitor_key, visit_number order by viewed_at, view_id
        rows between unbounded preceding and unbounded following
    ) as visit_id
from numbered
