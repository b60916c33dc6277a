-- Resolution KPIs per period, intent and first channel (DOMAIN.md section 5):
--   first-contact resolution = engagements resolved by their first interaction with no further contact on that
--     intent within the window / CLOSED engagements (window complete at the data's end; engagements FCR cannot
--     judge, without intent or outbound only, left out), by engagement start;
--   repeat-contact rate = interactions followed by another interaction of the same customer on the same intent
--     within the window / interactions, by interaction start.
with engagements as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        intent,
        first_channel,
        count(*) as engagements,
        sum(case when is_first_contact_resolved is not null then 1 else 0 end) as closed_engagements,
        sum(case when is_first_contact_resolved then 1 else 0 end) as fcr_engagements,
        sum(case when is_resolved then 1 else 0 end) as resolved_engagements,
        0 as interactions,
        0 as repeat_interactions
    from {{ ref('fct_engagements') }}
    group by 1, 2, 3
),

interactions_with_next as (
    select
        *,
        lead(started_at) over (partition by customer_key, intent order by started_at, interaction_id)
            as next_started_at
    from {{ ref('fct_interactions') }}
),

interactions as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        intent,
        first_channel,
        0 as engagements,
        0 as closed_engagements,
        0 as fcr_engagements,
        0 as resolved_engagements,
        count(*) as interactions,
        sum(
            case
                when next_started_at < {{ add_days('ended_at', var('engagement_window_days')) }} then 1 else 0
            end
        ) as repeat_interactions
    from interactions_with_next
    group by 1, 2, 3
),

daily as (
    select * from engagements
    union all
    select * from interactions
),

rolled_up as (
    {{ period_rollup('daily', ['intent', 'first_channel'],
        ['engagements', 'closed_engagements', 'fcr_engagements', 'resolved_engagements', 'interactions',
         'repeat_interactions']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as varchar) || '|' || intent || '|' || first_channel") }}
        as resolution_key,
    rolled_up.*,
    {{ safe_ratio('fcr_engagements', 'closed_engagements') }} as fcr_rate,
    {{ safe_ratio('repeat_interactions', 'interactions') }} as repeat_contact_rate,
    {{ safe_ratio('resolved_engagements', 'engagements') }} as resolution_rate
from rolled_up
