-- Solution effectiveness per intent and starting channel: the share of closed engagements resolved without
-- changing channel, and a priority that weights the rest by the intent's value_weight, to rank what to fix
-- first (docs/domain.md section 5). Channels are compared as media: the IVR and the agent leg of a call are one
-- voice contact, the bot and agent parts of a chat one chat (DECISIONS.md).
-- The media of an engagement are read from its channel_path, which names every channel of its transactions
-- (macro media_in_path): reading the transactions and interactions of the whole history for them made most of this
-- model's nightly cost (DECISIONS.md "mart_solution_effectiveness counts media from the channel path").
with engagements as (
    select
        engagements.*,
        case when engagements.first_channel in ('ivr', 'voice') then 'voice' else engagements.first_channel end
            as starting_medium,
        {{ media_in_path('engagements.channel_path') }} as media_count
    from {{ ref('fct_engagements') }} as engagements
    where engagements.is_resolved or engagements.is_window_complete
),

daily as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        intent,
        starting_medium,
        count(*) as closed_engagements,
        sum(case when is_resolved then 1 else 0 end) as resolved_engagements,
        sum(case when is_resolved and media_count = 1 then 1 else 0 end) as resolved_same_channel
    from engagements
    group by 1, 2, 3
),

rolled_up as (
    {{ period_rollup('daily', ['intent', 'starting_medium'],
        ['closed_engagements', 'resolved_engagements', 'resolved_same_channel'], with_total=true) }}
),

weighted as (
    select
        rolled_up.*,
        coalesce(intents.value_weight, 1.0) as value_weight,
        {{ safe_ratio('resolved_same_channel', 'closed_engagements') }} as effectiveness_rate,
        coalesce(intents.value_weight, 1.0) * (closed_engagements - resolved_same_channel) as fix_priority_score
    from rolled_up
    left join {{ ref('dim_intents') }} as intents on rolled_up.intent = intents.intent
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || weighted.intent
        || '|' || starting_medium") }}
        as effectiveness_key,
    weighted.*,
    rank() over (partition by period_grain, period_start order by fix_priority_score desc, intent, starting_medium)
        as fix_priority_rank
from weighted
