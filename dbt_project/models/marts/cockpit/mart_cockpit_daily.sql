-- The daily cockpit: one row per date, channel and intent with the headline KPIs side by side, and every
-- numerator and denominator as a column so that any roll-up (week, month, all channels) can be recomputed
-- exactly. Each KPI keeps the channel meaning of its own mart; rates are NULL where their denominator is 0.
{%- set measures = [
    'interactions', 'known_intent_interactions', 'repeat_interactions', 'closed_engagements', 'fcr_engagements',
    'nps_answers', 'promoters', 'detractors', 'csat_answers', 'csat_satisfied',
    'calls_entered_queue', 'answered_calls', 'answer_seconds', 'answered_within_service_level',
    'abandoned_calls', 'handled_contacts', 'handle_seconds', 'transfer_answered_calls', 'transferred_calls',
    'self_service_uses', 'failed_self_service_uses', 'scored_interactions', 'negative_interactions',
] %}
{#- Each source: its mart, what "channel" means there, and which of its day-grain counts feed which measure. -#}
{%- set sources = [
    {'mart': 'mart_resolution', 'channel': 'first_channel',
     'counts': {'interactions': 'interactions', 'known_intent_interactions': 'known_intent_interactions',
                'repeat_interactions': 'repeat_interactions',
                'closed_engagements': 'closed_engagements', 'fcr_engagements': 'fcr_engagements'}},
    {'mart': 'mart_satisfaction', 'channel': 'channel',
     'counts': {'nps_answers': 'nps_answers', 'promoters': 'promoters', 'detractors': 'detractors',
                'csat_answers': 'csat_answers', 'csat_satisfied': 'csat_satisfied'}},
    {'mart': 'mart_queue_performance', 'channel': 'channel',
     'counts': {'calls_entered_queue': 'calls_entered_queue', 'answered_calls': 'answered_calls',
                'answer_seconds': 'answer_seconds', 'answered_within_service_level': 'answered_within_service_level',
                'abandoned_calls': 'abandoned_calls', 'handled_contacts': 'handled_contacts',
                'handle_seconds': 'handle_seconds'}},
    {'mart': 'mart_transfers', 'channel': "'voice'",
     'counts': {'transfer_answered_calls': 'answered_calls', 'transferred_calls': 'transferred_calls'}},
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

select
    {{ dbt.hash("cast(activity_date as varchar) || '|' || channel || '|' || intent") }} as cockpit_key,
    daily.*,
    case when nps_answers > 0 then 100.0 * (promoters - detractors) / nps_answers end as nps,
    {{ safe_ratio('csat_satisfied', 'csat_answers') }} as csat_rate,
    {{ safe_ratio('fcr_engagements', 'closed_engagements') }} as fcr_rate,
    {{ safe_ratio('repeat_interactions', 'known_intent_interactions') }} as repeat_contact_rate,
    {{ safe_ratio('answer_seconds', 'answered_calls') }} as asa_seconds,
    {{ safe_ratio('abandoned_calls', 'calls_entered_queue') }} as abandonment_rate,
    {{ safe_ratio('answered_within_service_level', 'calls_entered_queue') }} as service_level,
    {{ safe_ratio('handle_seconds', 'handled_contacts') }} as aht_seconds,
    {{ safe_ratio('transferred_calls', 'transfer_answered_calls') }} as transfer_rate,
    {{ safe_ratio('failed_self_service_uses', 'self_service_uses') }} as self_service_failure_rate,
    {{ safe_ratio('negative_interactions', 'scored_interactions') }} as negative_sentiment_share
from daily
