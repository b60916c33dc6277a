-- Level 4: one row per engagement (one problem of one customer, first contact to resolution), pointing to its
-- customer. The window of an engagement ends var('engagement_window_days') after its last contact; an
-- engagement whose window is still running at the data's end is excluded from FCR (docs/domain.md section 5), and so
-- is one FCR cannot judge: no intent at all (a text thread alone) or only outbound calls (DECISIONS.md).
-- Incremental by customer (DECISIONS.md "Engagements incremental by customer, judged against the data's end"): a
-- nightly run rebuilds the customers whose transactions or matched survey answers changed
-- (int_engagement_fingerprints) and those with a window the data's end moved past; the data's end itself is not a
-- column, so that the other rows stay as they are.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ delete_stale_customers('int_engagement_fingerprints') }}",
        "{{ forget_customers_whose_windows_moved() }}",
        "{{ delete_customers_whose_windows_moved() }}",
    ],
    post_hook=[
        "{{ forget_stale_customers('int_engagement_fingerprints') }}",
        "{{ record_rebuilt_customers('int_engagement_fingerprints') }}",
    ],
) }}
with interactions as (
    select * from {{ ref('int_engagements_windowed') }}
    {{ customers_to_rebuild('customer_key', 'int_engagement_fingerprints') }}
),

engagement_fingerprints as (
    select customer_key, input_fingerprint from {{ ref('int_engagement_fingerprints') }}
),

data_window as (
    {{ data_end() }}
),

surveys as (
    -- The documented double on every engine: PostgreSQL's avg() of integers is numeric (a unit test's expected
    -- 4.0 then differs from its 4.0000000000000000).
    select
        engagement_id,
        count(*) as survey_answers_count,
        max(case when survey_type = 'nps' then responded_at end) as last_nps_at,
        max(case when survey_type = 'csat' then responded_at end) as last_csat_at,
        cast(avg(case when survey_type = 'csat' and is_valid_score then score end) as {{ type_double() }})
            as csat_score_mean,
        cast(avg(case when survey_type = 'nps' and is_valid_score then score end) as {{ type_double() }})
            as nps_score_mean
    from {{ ref('fct_survey_answers') }}
    where engagement_id is not null
    group by engagement_id
),

aggregated as (
    select
        engagement_id,
        min(customer_key) as customer_key,
        min(intent) as intent,
        min(started_at) as started_at,
        max(ended_at) as last_contact_at,
        count(*) as interactions_count,
        {{ ordered_path('channel_path', 'started_at, interaction_id') }} as channel_path,
        sum(effort_minutes) as total_effort_minutes,
        max(case when is_resolved then 1 else 0 end) = 1 as is_resolved,
        max(resolved_at) as resolved_at,
        max(resolution_method) as resolution_method,
        max(case when interaction_sequence = 1 and is_resolved then 1 else 0 end) = 1
            as is_resolved_by_first_interaction,
        max(case when interaction_sequence = 1 and is_resolution_known then 1 else 0 end) = 1
            as is_first_resolution_known,
        max(case when is_resolved then 1 else 0 end) = 1
            or min(case when is_resolution_known then 1 else 0 end) = 1 as is_resolution_known,
        max(case when interaction_sequence = 1 then first_channel end) as first_channel,
        min(case when is_outbound_only then 1 else 0 end) = 1 as is_outbound_only,
        min(case when is_customer_initiated then started_at end) as first_customer_contact_at,
        max(case when is_assisted then 1 else 0 end) = 1 as is_assisted
    from interactions
    group by engagement_id
),

with_next as (
    select
        aggregated.*,
        -- FCR's "further contact" is the customer's: a callback or a reminder after a resolved call is not, even
        -- when it opens the next engagement; the customer's own next contact on the intent is what counts.
        min(first_customer_contact_at) over (
            partition by customer_key, intent order by started_at, engagement_id
            rows between 1 following and unbounded following
        ) as next_engagement_started_at,
        {{ add_days('last_contact_at', var('engagement_window_days')) }} as window_ends_at
    from aggregated
)

select
    with_next.engagement_id,
    with_next.customer_key,
    with_next.intent,
    with_next.started_at,
    with_next.last_contact_at,
    with_next.window_ends_at,
    case
        when with_next.is_resolved then with_next.resolved_at
        when with_next.window_ends_at <= data_window.data_end_at then with_next.window_ends_at
    end as closed_at,
    with_next.interactions_count,
    with_next.channel_path,
    with_next.first_channel,
    with_next.total_effort_minutes,
    with_next.is_resolved,
    with_next.is_resolution_known,
    with_next.is_assisted,
    with_next.resolution_method,
    with_next.resolved_at,
    with_next.window_ends_at <= data_window.data_end_at as is_window_complete,
    not with_next.is_resolved and with_next.window_ends_at > data_window.data_end_at as is_open_at_data_end,
    -- A problem FCR can judge: it has an intent, the customer (not only the company) got in touch, and the
    -- export says whether the first contact solved it.
    with_next.intent not in ('unknown', 'unmapped') and not with_next.is_outbound_only
        and with_next.is_first_resolution_known as is_fcr_eligible,
    with_next.is_first_resolution_known,
    case
        when with_next.window_ends_at > data_window.data_end_at then null
        -- 'unmapped' (codes the knowledge base does not know) is no more a known problem than 'unknown'.
        when with_next.intent in ('unknown', 'unmapped') or with_next.is_outbound_only then null
        -- The export did not say whether the first contact solved it (e.g. a call log without `resolved`):
        -- no data, not "not resolved".
        when not with_next.is_first_resolution_known then null
        else with_next.is_resolved_by_first_interaction
            and with_next.interactions_count = 1
            and (
                with_next.next_engagement_started_at is null
                or with_next.next_engagement_started_at >= with_next.window_ends_at
            )
    end as is_first_contact_resolved,
    coalesce(surveys.survey_answers_count, 0) as survey_answers_count,
    surveys.csat_score_mean,
    surveys.nps_score_mean,
    engagement_fingerprints.input_fingerprint as _input_fingerprint
from with_next
cross join data_window
left join surveys on with_next.engagement_id = surveys.engagement_id
left join engagement_fingerprints on with_next.customer_key = engagement_fingerprints.customer_key
