-- Sentiment per period (day, week from Monday, month), first channel and intent of the interaction (docs/domain.md
-- section 5): interactions with at least one scored customer text, how many of them are negative (mean VADER
-- compound <= -0.05), the share of negative interactions over scored interactions, and the mean compound (each
-- interaction weighs the same). Interactions are dated by their start.
with interactions as (
    select interaction_id, started_at, intent, first_channel from {{ ref('fct_interactions') }}
),

daily as (
    select
        {{ reporting_date('interactions.started_at') }} as activity_date,
        coalesce(interactions.first_channel, 'unknown') as first_channel,
        coalesce(interactions.intent, 'unknown') as intent,
        count(*) as scored_interactions,
        sum(case when sentiment.sentiment = 'negative' then 1 else 0 end) as negative_interactions,
        sum(case when sentiment.sentiment = 'neutral' then 1 else 0 end) as neutral_interactions,
        sum(case when sentiment.sentiment = 'positive' then 1 else 0 end) as positive_interactions,
        sum(sentiment.customer_texts) as customer_texts,
        -- Exact decimal sum of the means at 8 decimals: a rebuild gives the same figure whatever the row order.
        sum(cast(sentiment.mean_compound as decimal(18, 8))) as compound_sum
    from {{ ref('int_interaction_sentiment') }} as sentiment
    inner join interactions on sentiment.interaction_id = interactions.interaction_id
    group by 1, 2, 3
),

rolled_up as (
    {{ period_rollup('daily', ['first_channel', 'intent'],
        ['scored_interactions', 'negative_interactions', 'neutral_interactions', 'positive_interactions',
         'customer_texts', 'compound_sum:decimal(18, 8)']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || first_channel
            || '|' || intent") }}
        as sentiment_key,
    period_grain,
    period_start,
    first_channel,
    intent,
    scored_interactions,
    negative_interactions,
    neutral_interactions,
    positive_interactions,
    customer_texts,
    compound_sum,
    -- The semantic layer's metric (macro metric_sql); the positive share and the mean have no metric.
    {{ metric_sql('negative_sentiment_share') }} as negative_sentiment_share,
    {{ safe_ratio('positive_interactions', 'scored_interactions') }} as positive_sentiment_share,
    {{ safe_ratio('compound_sum', 'scored_interactions') }} as mean_compound
from rolled_up
