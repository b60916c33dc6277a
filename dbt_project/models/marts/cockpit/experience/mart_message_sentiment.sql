-- Sentiment of single texts per period (day, week from Monday, month), channel the text was written on, kind of
-- text, author and intent: scored texts, negative texts (compound <= -0.05), their share and the mean compound.
-- A survey comment's channel is the channel of the contact it rates. Texts are dated by when they were written;
-- the intent is their interaction's ('unknown' when the text is linked to none).
with texts as (
    select
        messages.written_at,
        messages.channel,
        messages.source_type,
        messages.author_role,
        coalesce(interactions.intent, 'unknown') as intent,
        messages.sentiment,
        messages.compound
    from {{ ref('int_message_sentiment') }} as messages
    left join {{ ref('fct_interactions') }} as interactions
        on messages.interaction_id = interactions.interaction_id
),

daily as (
    select
        {{ reporting_date('written_at') }} as activity_date,
        channel,
        source_type,
        author_role,
        intent,
        count(*) as scored_texts,
        sum(case when sentiment = 'negative' then 1 else 0 end) as negative_texts,
        sum(case when sentiment = 'neutral' then 1 else 0 end) as neutral_texts,
        sum(case when sentiment = 'positive' then 1 else 0 end) as positive_texts,
        sum(cast(compound as decimal(18, 4))) as compound_sum
    from texts
    group by 1, 2, 3, 4, 5
),

rolled_up as (
    {{ period_rollup('daily', ['channel', 'source_type', 'author_role', 'intent'],
        ['scored_texts', 'negative_texts', 'neutral_texts', 'positive_texts', 'compound_sum:decimal(18, 4)']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || channel || '|'
            || source_type
        || '|' || author_role || '|' || intent") }}
        as message_sentiment_key,
    period_grain,
    period_start,
    channel,
    source_type,
    author_role,
    intent,
    scored_texts,
    negative_texts,
    neutral_texts,
    positive_texts,
    compound_sum,
    {{ safe_ratio('negative_texts', 'scored_texts') }} as negative_text_share,
    {{ safe_ratio('positive_texts', 'scored_texts') }} as positive_text_share,
    {{ safe_ratio('compound_sum', 'scored_texts') }} as mean_compound
from rolled_up
