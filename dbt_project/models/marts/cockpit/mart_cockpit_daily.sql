-- The daily cockpit: one row per date, channel and intent with the headline KPIs side by side, and every
-- numerator and denominator as a column so that any roll-up (week, month, all channels) can be recomputed
-- exactly. Each KPI keeps the channel meaning of its own mart; rates are NULL where their denominator is 0.
-- The rate columns are the semantic layer's metrics compiled by metric_sql (models/marts/semantic/): the one
-- definition of each KPI, which MetricFlow and the report read too.
{%- set measures = [
    'interactions', 'known_intent_interactions', 'repeat_interactions', 'engagements', 'closed_engagements',
    'fcr_engagements',
    'nps_answers', 'promoters', 'detractors', 'csat_answers', 'csat_satisfied',
    'calls_entered_queue', 'answered_calls', 'answer_seconds', 'answered_within_service_level',
    'abandoned_calls', 'handled_contacts', 'handle_seconds', 'answered_legs', 'dead_air_calls',
    'transfer_answered_calls', 'transferred_calls',
    'self_service_uses', 'failed_self_service_uses', 'scored_interactions', 'negative_interactions',
] %}
{#- Each source: its mart, what "channel" means there, and which of its day-grain counts feed which measure. -#}
{%- set sources = [
    {'mart': 'mart_resolution', 'channel': 'first_channel',
     'counts': {'interactions': 'interactions', 'known_intent_interactions': 'known_intent_interactions',
                'repeat_interactions': 'repeat_interactions', 'engagements': 'engagements',
                'closed_engagements': 'closed_engagements', 'fcr_engagements': 'fcr_engagements'}},
    {'mart': 'mart_satisfaction', 'channel': 'channel',
     'counts': {'nps_answers': 'nps_answers', 'promoters': 'promoters', 'detractors': 'detractors',
                'csat_answers': 'csat_answers', 'csat_satisfied': 'csat_satisfied'}},
    {'mart': 'mart_queue_performance', 'channel': 'channel',
     'counts': {'calls_entered_queue': 'calls_entered_queue', 'answered_calls': 'answered_calls',
                'answer_seconds': 'answer_seconds', 'answered_within_service_level': 'answered_within_service_level',
                'abandoned_calls': 'abandoned_calls', 'handled_contacts': 'handled_contacts',
                'handle_seconds': 'handle_seconds', 'answered_legs': 'answered_legs',
                'dead_air_calls': 'dead_air_calls'}},
    {'mart': 'mart_transfers', 'channel': "'voice'",
     'counts': {'transfer_answered_calls': 'transfer_answered_calls', 'transferred_calls': 'transferred_calls'}},
    {'mart': 'mart_self_service_failure',
     'channel': "case use_type when 'faq_visit' then 'faq' when 'bot_only_chat' then 'chat' else 'ivr' end",
     'counts': {'self_service_uses': 'self_service_uses', 'failed_self_service_uses': 'failed_self_service_uses'}},
    {'mart': 'mart_sentiment', 'channel': 'first_channel',
     'counts': {'scored_interactions': 'scored_interactions', 'negative_interactions': 'negative_interactions'}},
] %}

with unioned as (
    {%- for source in sources %}
    select
        period_start as activity_date,
        {{ source.channel }} as channel,
        intent,
        {%- for measure in measures %}
        {{ source.counts[measure] if measure in source.counts else '0' }} as {{ measure }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref(source.mart) }}
    where period_grain = 'day'
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

daily as (
    select
        activity_date,
        coalesce(channel, 'unknown') as channel,
        coalesce(intent, 'unknown') as intent,
        {%- for measure in measures %}
        cast(sum({{ measure }}) as bigint) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from unioned
    group by 1, 2, 3
)

{#- The KPIs: names only; each formula is the metric's, in the semantic layer. -#}
{%- set rates = [
    'nps', 'csat_rate', 'fcr_rate', 'repeat_contact_rate', 'asa_seconds', 'abandonment_rate', 'service_level',
    'aht_seconds', 'dead_air_rate', 'transfer_rate', 'self_service_failure_rate', 'negative_sentiment_share',
] %}

select
    {{ dbt.hash("cast(activity_date as " ~ dbt.type_string() ~ ") || '|' || channel || '|'
            || intent") }} as cockpit_key,
    daily.*,
    {%- for rate in rates %}
    {{ metric_sql(rate) }} as {{ rate }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from daily
