-- Level 4 building block: each interaction with its engagement. A customer's interactions on one intent form
-- one engagement until an interaction resolves it, or until var('engagement_window_days') pass without another
-- contact on that intent (measured from the end of the previous contact); the next contact then opens a new
-- engagement (docs/domain.md section 4).
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_customers() }}",
    post_hook=["{{ forget_stale_customers() }}", "{{ record_rebuilt_customers() }}"],
) }}
with interactions as (
    select * from {{ ref('int_interactions_summarized') }}
    {{ customers_to_rebuild('customer_key') }}
),

with_previous as (
    select
        *,
        lag(ended_at) over (partition by customer_key, intent order by started_at, interaction_id)
            as previous_ended_at,
        lag(is_resolved) over (partition by customer_key, intent order by started_at, interaction_id)
            as previous_is_resolved
    from interactions
),

flagged as (
    select
        *,
        case
            when previous_ended_at is null then 1
            when previous_is_resolved then 1
            when started_at >= {{ add_days('previous_ended_at', var('engagement_window_days')) }} then 1
            else 0
        end as is_new_engagement
    from with_previous
),

numbered as (
    select
        *,
        cast(sum(is_new_engagement) over (
            partition by customer_key, intent order by started_at, interaction_id
            rows between unbounded preceding and current row
        ) as bigint) as engagement_number
    from flagged
)

select
    numbered.*,
    first_value(interaction_id) over (
        partition by customer_key, intent, engagement_number order by started_at, interaction_id
        rows between unbounded preceding and unbounded following
    ) as engagement_id,
    row_number() over (
        partition by customer_key, intent, engagement_number order by started_at, interaction_id
    ) as interaction_sequence
from numbered
