-- One row per interaction with at least one scored customer text (chat messages of the customer, inbound text
-- messages, survey comments on the interaction): the mean of their VADER compound scores, classed with the same
-- thresholds as a single text (positive >= 0.05, negative <= -0.05). The mean is rounded to 4 decimals, VADER's
-- own precision, before it is classed, so float noise cannot move an interaction across a threshold.
with customer_texts as (
    select *
    from {{ ref('int_message_sentiment') }}
    where is_customer_text and interaction_id is not null
),

summarized as (
    select
        interaction_id,
        min(customer_key) as customer_key,
        count(*) as customer_texts,
        sum(case when sentiment = 'positive' then 1 else 0 end) as positive_texts,
        sum(case when sentiment = 'negative' then 1 else 0 end) as negative_texts,
        -- VADER's compound has 4 decimals: summed as an exact decimal, the total does not depend on the order
        -- the engine adds the rows in (a float sum did: mart_sentiment moved by 0.0001 between identical runs).
        sum(cast(compound as decimal(18, 4))) as compound_sum,
        min(compound) as min_compound,
        min(written_at) as first_text_at,
        max(written_at) as last_text_at
    from customer_texts
    group by interaction_id
),

averaged as (
    select
        *,
        -- Unrounded: round() of a double differs between engines at ties (DECISIONS.md "Sentiment means unrounded").
        cast(compound_sum as {{ type_double() }}) / customer_texts as mean_compound
    from summarized
)

select
    interaction_id,
    customer_key,
    customer_texts,
    positive_texts,
    negative_texts,
    compound_sum,
    min_compound,
    mean_compound,
    {{ sentiment_class('compound_sum', 'customer_texts') }} as sentiment,
    first_text_at,
    last_text_at
from averaged
