-- Customer outcomes per day (reporting time zone), channel, intent and customer segment: the counts behind FCR,
-- NPS and CSAT with the customer's segment beside them, for SQL users who slice these KPIs by segment. The counts
-- are int_outcome_counts_daily's (the semantic model outcome_day's rows) summed over agents, and those are
-- mart_resolution's and mart_satisfaction's day counts split by segment and agent, with the same channel and intent:
-- summed over segments they are those marts' figures (tests/test_semantic_layer.py). A customer's segment is
-- fct_customer_journeys.segment, the one segment that applies first (at_risk, frequent_contacter, high_value, else
-- regular) at the data's end, not at the time of the contact; 'unknown' when the engagement or answer has no known
-- customer.
with daily as (
    select
        activity_date,
        channel,
        intent,
        segment,
        cast(sum(engagements) as bigint) as engagements,
        cast(sum(closed_engagements) as bigint) as closed_engagements,
        cast(sum(fcr_engagements) as bigint) as fcr_engagements,
        cast(sum(nps_answers) as bigint) as nps_answers,
        cast(sum(promoters) as bigint) as promoters,
        cast(sum(detractors) as bigint) as detractors,
        cast(sum(csat_answers) as bigint) as csat_answers,
        cast(sum(csat_satisfied) as bigint) as csat_satisfied
    from {{ ref('int_outcome_counts_daily') }}
    group by 1, 2, 3, 4
)

select
    {{ dbt.hash("cast(activity_date as " ~ dbt.type_string() ~ ") || '|' || channel || '|' || intent
        || '|' || segment") }}
        as segment_outcomes_key,
    daily.*,
    -- The rates are the semantic layer's metrics (macro metric_sql), not formulas of their own.
    {{ metric_sql('fcr_rate') }} as fcr_rate,
    {{ metric_sql('nps') }} as nps,
    {{ metric_sql('csat_rate') }} as csat_rate
from daily
