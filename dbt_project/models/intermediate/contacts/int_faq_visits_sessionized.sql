-- FAQ views grouped into visits: views of one visitor less than var('session_gap_minutes') apart.
-- Incremental by visitor (DECISIONS.md "int_faq_visits_sessionized incremental by visitor"): a view's row depends
-- only on the views of its visitor, so a nightly run rebuilds every view of the visitors it touches: those of the
-- views loaded since the stored rows (staging's _load_seq above their newest), the visitors those views had before
-- (a corrected view can move to another visitor), and the visitors whose stored visits the current gap would cut
-- differently (a changed var session_gap_minutes). Their rows replace the stored ones by view_id.
{{ config(materialized=incremental_or_table(), unique_key=['view_id']) }}

with source_views as (
    select
        *,
        coalesce(visitor_id, 'ref:' || customer_ref, 'view:' || view_id) as visitor_key
    from {{ ref('stg_help_center__faq_views') }}
),

{% if is_incremental() -%}
new_views as (
    select view_id, visitor_key
    from source_views
    where _load_seq > (select coalesce(max(_load_seq), 0) from {{ this }})
),

touched_visitors as (
    select visitor_key from new_views
    union
    select stored.visitor_key
    from {{ this }} as stored
    where stored.view_id in (select view_id from new_views)
    union
    select stored.visitor_key
    from {{ this }} as stored
    where stored.previous_viewed_at is not null
        and (stored.is_new_visit = 1)
        <> (stored.viewed_at >= {{ add_minutes('stored.previous_viewed_at', var('session_gap_minutes')) }})
),

views as (
    select * from source_views
    where visitor_key in (select visitor_key from touched_visitors)
),
{%- else -%}
views as (
    select * from source_views
),
{%- endif %}

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
