-- Self-service failure per chat-bot intent: bot-only chats followed by an assisted contact of the same customer
-- on the same intent within var('deflection_window_hours') / bot-only chats. Ranked within each period.
with daily as (
    select
        {{ reporting_date('uses.started_at') }} as activity_date,
        coalesce(lower(conversations.bot_intent), 'none') as bot_intent,
        uses.intent,
        count(*) as bot_only_chats,
        sum(case when uses.is_failed then 1 else 0 end) as failed_chats
    from {{ ref('int_self_service_uses') }} as uses
    inner join {{ ref('stg_chat__conversations') }} as conversations
        on uses.source_id = conversations.conversation_id
    where uses.use_type = 'bot_only_chat' and uses.is_intent_known
    group by 1, 2, 3
),

rolled_up as (
    {{ period_rollup('daily', ['bot_intent', 'intent'], ['bot_only_chats', 'failed_chats'], with_total=true) }}
),

rated as (
    select
        rolled_up.*,
        {{ metric_sql('self_service_failure_rate',
                      columns={'failed_self_service_uses': 'failed_chats', 'self_service_uses': 'bot_only_chats'}) }}
            as self_service_failure_rate
    from rolled_up
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || bot_intent
            || '|' || intent") }}
        as bot_intent_failure_key,
    rated.*,
    rank() over (
        partition by period_grain, period_start order by self_service_failure_rate desc, bot_only_chats desc
    ) as failure_rank
from rated
