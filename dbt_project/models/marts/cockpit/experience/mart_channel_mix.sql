-- Channel mix per period (day, week from Monday, month), intent and channel (docs/domain.md section 5), interactions
-- dated by their start. Two counts per channel:
--   interactions_started_on_channel  the interaction's FIRST channel is this one (the main measure: each
--                                    interaction counts once, so the shares of an intent add up to 1);
--   interactions_using_channel       the interaction used this channel at any point: an interaction with the
--                                    path faq > voice counts for faq AND for voice (shares add up to 1 or more).
-- Both are over the intent's interactions in the period (intent_interactions).
with interactions as (
    select
        interaction_id,
        {{ reporting_date('started_at') }} as activity_date,
        coalesce(intent, 'unknown') as intent,
        first_channel
    from {{ ref('fct_interactions') }}
),

channels_used as (
    select distinct interaction_id, channel from {{ ref('fct_transactions') }}
),

intent_daily as (
    select activity_date, intent, count(*) as intent_interactions
    from interactions
    group by 1, 2
),

channel_daily as (
    select
        interactions.activity_date,
        interactions.intent,
        channels_used.channel,
        count(*) as interactions_using_channel,
        sum(case when interactions.first_channel = channels_used.channel then 1 else 0 end)
            as interactions_started_on_channel
    from interactions
    inner join channels_used on interactions.interaction_id = channels_used.interaction_id
    group by 1, 2, 3
),

-- The intent's totals roll up on their own: a day without any interaction on a channel has no channel row, and
-- its interactions must still count in the week's and month's denominator.
intent_rolled_up as (
    {{ period_rollup('intent_daily', ['intent'], ['intent_interactions']) }}
),

channel_rolled_up as (
    {{ period_rollup('channel_daily', ['intent', 'channel'],
        ['interactions_started_on_channel', 'interactions_using_channel']) }}
)

select
    {{ dbt.hash("channel_rolled_up.period_grain || '|'
            || cast(channel_rolled_up.period_start as " ~ dbt.type_string() ~ ")
        || '|' || channel_rolled_up.intent || '|' || channel_rolled_up.channel") }}
        as channel_mix_key,
    channel_rolled_up.period_grain,
    channel_rolled_up.period_start,
    channel_rolled_up.intent,
    channel_rolled_up.channel,
    channel_rolled_up.interactions_started_on_channel,
    channel_rolled_up.interactions_using_channel,
    intent_rolled_up.intent_interactions,
    {{ safe_ratio('channel_rolled_up.interactions_started_on_channel', 'intent_rolled_up.intent_interactions') }}
        as first_channel_share,
    {{ safe_ratio('channel_rolled_up.interactions_using_channel', 'intent_rolled_up.intent_interactions') }}
        as channel_usage_share
from channel_rolled_up
inner join intent_rolled_up
    on channel_rolled_up.period_grain = intent_rolled_up.period_grain
    and channel_rolled_up.period_start = intent_rolled_up.period_start
    and channel_rolled_up.intent = intent_rolled_up.intent
