-- Resolution KPIs per period, intent and first channel (docs/domain.md section 5):
--   first-contact resolution = engagements resolved by their first interaction with no further contact on that
--     intent within the window / CLOSED engagements (window complete at the data's end; engagements FCR cannot
--     judge, without intent, outbound only or without resolution data, left out), by engagement start;
--   repeat-contact rate = interactions with a known intent followed by another interaction that the same
--     customer started on the same intent within the window / interactions with a known intent, by interaction
--     start. 'unknown' (no code at all) and 'unmapped' are never "the same intent": a text thread and an
--     unanswered callback are not repeats of each other. Callbacks and reminder texts never make a repeat;
--   resolution rate = resolved engagements / engagements whose resolution is known (a call log without a
--     resolution column gives no data, not 0 %).
with engagements as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        intent,
        first_channel,
        count(*) as engagements,
        sum(case when is_first_contact_resolved is not null then 1 else 0 end) as closed_engagements,
        sum(case when is_first_contact_resolved then 1 else 0 end) as fcr_engagements,
        sum(case when is_resolution_known then 1 else 0 end) as resolution_known_engagements,
        sum(case when is_resolved then 1 else 0 end) as resolved_engagements,
        -- Why FCR may be NULL (fcr_status): engagements still inside their window, and engagements with a known
        -- intent whose first contact's resolution the exports do not give.
        sum(case when is_fcr_eligible and not is_window_complete then 1 else 0 end) as fcr_open_engagements,
        sum(
            case when intent not in ('unknown', 'unmapped') and not is_first_resolution_known then 1 else 0 end
        ) as resolution_unknown_engagements,
        max(case when is_fcr_eligible and not is_window_complete then {{ reporting_date('window_ends_at') }} end)
            as fcr_window_closes_on,
        0 as interactions,
        0 as known_intent_interactions,
        0 as repeat_interactions
    from {{ ref('fct_engagements') }}
    group by 1, 2, 3
),

interactions_with_next as (
    select
        *,
        -- The next contact the customer started on the same intent (callbacks and reminders skipped).
        min(case when is_customer_initiated then started_at end) over (
            partition by customer_key, intent order by started_at, interaction_id
            rows between 1 following and unbounded following
        ) as next_customer_started_at
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
        0 as resolution_known_engagements,
        0 as resolved_engagements,
        0 as fcr_open_engagements,
        0 as resolution_unknown_engagements,
        cast(null as date) as fcr_window_closes_on,
        count(*) as interactions,
        sum(case when intent not in ('unknown', 'unmapped') then 1 else 0 end) as known_intent_interactions,
        sum(
            case
                when intent in ('unknown', 'unmapped') then 0
                when next_customer_started_at < {{ add_days('ended_at', var('engagement_window_days')) }} then 1
                else 0
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
        ['engagements', 'closed_engagements', 'fcr_engagements', 'resolution_known_engagements',
         'resolved_engagements', 'fcr_open_engagements', 'resolution_unknown_engagements',
         'fcr_window_closes_on:date:max', 'interactions', 'known_intent_interactions', 'repeat_interactions']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || intent || '|'
            || first_channel") }}
        as resolution_key,
    rolled_up.*,
    {{ metric_sql('fcr_rate') }} as fcr_rate,
    {{ fcr_status('closed_engagements', 'fcr_open_engagements', 'resolution_unknown_engagements', 'engagements',
                  'fcr_window_closes_on') }} as fcr_status,
    {{ metric_sql('repeat_contact_rate') }} as repeat_contact_rate,
    {{ safe_ratio('resolved_engagements', 'resolution_known_engagements') }} as resolution_rate
from rolled_up
