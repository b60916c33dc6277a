-- The daily cockpit: one row per date, channel and intent with the headline KPIs side by side, and every
-- numerator and denominator as a column so that any roll-up (week, month, all channels) can be recomputed
-- exactly. Each KPI keeps the channel meaning of its own mart (noted per source below); rates are NULL where
-- their denominator is 0.
with
-- Volume, repeat contacts and FCR by the channel the interaction/engagement started on.
resolution as (
    select
        period_start as activity_date,
        first_channel as channel,
        intent,
        sum(interactions) as interactions,
        sum(repeat_interactions) as repeat_interactions,
        sum(closed_engagements) as closed_engagements,
        sum(fcr_engagements) as fcr_engagements,
        0 as nps_answers,
        0 as promoters,
        0 as detractors,
        0 as csat_answers,
        0 as csat_satisfied,
        0 as calls_entered_queue,
        0 as answered_calls,
        0 as answer_seconds,
        0 as answered_within_service_level,
        0 as abandoned_calls,
        0 as handled_contacts,
        0 as handle_seconds,
        0 as transfer_answered_calls,
        0 as transferred_calls,
        0 as self_service_uses,
        0 as failed_self_service_uses,
        0 as scored_interactions,
        0 as negative_interactions
    from {{ ref('mart_resolution') }}
    where period_grain = 'day'
    group by 1, 2, 3
),

-- Survey answers by the channel of the rated contact.
satisfaction as (
    select
        period_start as activity_date,
        channel as channel,
        intent,
        0 as interactions,
        0 as repeat_interactions,
        0 as closed_engagements,
        0 as fcr_engagements,
        sum(nps_answers) as nps_answers,
        sum(promoters) as promoters,
        sum(detractors) as detractors,
        sum(csat_answers) as csat_answers,
        sum(csat_satisfied) as csat_satisfied,
        0 as calls_entered_queue,
        0 as answered_calls,
        0 as answer_seconds,
        0 as answered_within_service_level,
        0 as abandoned_calls,
        0 as handled_contacts,
        0 as handle_seconds,
        0 as transfer_answered_calls,
        0 as transferred_calls,
        0 as self_service_uses,
        0 as failed_self_service_uses,
        0 as scored_interactions,
        0 as negative_interactions
    from {{ ref('mart_satisfaction') }}
    where period_grain = 'day'
    group by 1, 2, 3
),

-- Queue measures (voice) and handle time (voice and agent chats).
queues as (
    select
        period_start as activity_date,
        channel as channel,
        intent,
        0 as interactions,
        0 as repeat_interactions,
        0 as closed_engagements,
        0 as fcr_engagements,
        0 as nps_answers,
        0 as promoters,
        0 as detractors,
        0 as csat_answers,
        0 as csat_satisfied,
        sum(calls_entered_queue) as calls_entered_queue,
        sum(answered_calls) as answered_calls,
        sum(answer_seconds) as answer_seconds,
        sum(answered_within_service_level) as answered_within_service_level,
        sum(abandoned_calls) as abandoned_calls,
        sum(handled_contacts) as handled_contacts,
        sum(handle_seconds) as handle_seconds,
        0 as transfer_answered_calls,
        0 as transferred_calls,
        0 as self_service_uses,
        0 as failed_self_service_uses,
        0 as scored_interactions,
        0 as negative_interactions
    from {{ ref('mart_queue_performance') }}
    where period_grain = 'day'
    group by 1, 2, 3
),

-- Transfers of answered calls.
transfers as (
    select
        period_start as activity_date,
        'voice' as channel,
        intent,
        0 as interactions,
        0 as repeat_interactions,
        0 as closed_engagements,
        0 as fcr_engagements,
        0 as nps_answers,
        0 as promoters,
        0 as detractors,
        0 as csat_answers,
        0 as csat_satisfied,
        0 as calls_entered_queue,
        0 as answered_calls,
        0 as answer_seconds,
        0 as answered_within_service_level,
        0 as abandoned_calls,
        0 as handled_contacts,
        0 as handle_seconds,
        sum(answered_calls) as transfer_answered_calls,
        sum(transferred_calls) as transferred_calls,
        0 as self_service_uses,
        0 as failed_self_service_uses,
        0 as scored_interactions,
        0 as negative_interactions
    from {{ ref('mart_transfers') }}
    where period_grain = 'day'
    group by 1, 2, 3
),

-- Self-service uses by the channel of the use.
self_service as (
    select
        period_start as activity_date,
        case use_type when 'faq_visit' then 'faq' when 'bot_only_chat' then 'chat' else 'ivr' end as channel,
        intent,
        0 as interactions,
        0 as repeat_interactions,
        0 as closed_engagements,
        0 as fcr_engagements,
        0 as nps_answers,
        0 as promoters,
        0 as detractors,
        0 as csat_answers,
        0 as csat_satisfied,
        0 as calls_entered_queue,
        0 as answered_calls,
        0 as answer_seconds,
        0 as answered_within_service_level,
        0 as abandoned_calls,
        0 as handled_contacts,
        0 as handle_seconds,
        0 as transfer_answered_calls,
        0 as transferred_calls,
        sum(self_service_uses) as self_service_uses,
        sum(failed_uses) as failed_self_service_uses,
        0 as scored_interactions,
        0 as negative_interactions
    from {{ ref('mart_self_service_failure') }}
    where period_grain = 'day'
    group by 1, 2, 3
),

-- Interaction sentiment by the interaction's first channel.
sentiment as (
    select
        period_start as activity_date,
        first_channel as channel,
        intent,
        0 as interactions,
        0 as repeat_interactions,
        0 as closed_engagements,
        0 as fcr_engagements,
        0 as nps_answers,
        0 as promoters,
        0 as detractors,
        0 as csat_answers,
        0 as csat_satisfied,
        0 as calls_entered_queue,
        0 as answered_calls,
        0 as answer_seconds,
        0 as answered_within_service_level,
        0 as abandoned_calls,
        0 as handled_contacts,
        0 as handle_seconds,
        0 as transfer_answered_calls,
        0 as transferred_calls,
        0 as self_service_uses,
        0 as failed_self_service_uses,
        sum(scored_interactions) as scored_interactions,
        sum(negative_interactions) as negative_interactions
    from {{ ref('mart_sentiment') }}
    where period_grain = 'day'
    group by 1, 2, 3
),

unioned as (
    select * from resolution
    union all
    select * from satisfaction
    union all
    select * from queues
    union all
    select * from transfers
    union all
    select * from self_service
    union all
    select * from sentiment
),

daily as (
    select
        activity_date,
        coalesce(channel, 'unknown') as channel,
        coalesce(intent, 'unknown') as intent,
        cast(sum(interactions) as bigint) as interactions,
        cast(sum(repeat_interactions) as bigint) as repeat_interactions,
        cast(sum(closed_engagements) as bigint) as closed_engagements,
        cast(sum(fcr_engagements) as bigint) as fcr_engagements,
        cast(sum(nps_answers) as bigint) as nps_answers,
        cast(sum(promoters) as bigint) as promoters,
        cast(sum(detractors) as bigint) as detractors,
        cast(sum(csat_answers) as bigint) as csat_answers,
        cast(sum(csat_satisfied) as bigint) as csat_satisfied,
        cast(sum(calls_entered_queue) as bigint) as calls_entered_queue,
        cast(sum(answered_calls) as bigint) as answered_calls,
        cast(sum(answer_seconds) as bigint) as answer_seconds,
        cast(sum(answered_within_service_level) as bigint) as answered_within_service_level,
        cast(sum(abandoned_calls) as bigint) as abandoned_calls,
        cast(sum(handled_contacts) as bigint) as handled_contacts,
        cast(sum(handle_seconds) as bigint) as handle_seconds,
        cast(sum(transfer_answered_calls) as bigint) as transfer_answered_calls,
        cast(sum(transferred_calls) as bigint) as transferred_calls,
        cast(sum(self_service_uses) as bigint) as self_service_uses,
        cast(sum(failed_self_service_uses) as bigint) as failed_self_service_uses,
        cast(sum(scored_interactions) as bigint) as scored_interactions,
        cast(sum(negative_interactions) as bigint) as negative_interactions
    from unioned
    group by 1, 2, 3
)

select
    {{ dbt.hash("cast(activity_date as varchar) || '|' || channel || '|' || intent") }} as cockpit_key,
    daily.*,
    case when nps_answers > 0 then 100.0 * (promoters - detractors) / nps_answers end as nps,
    {{ safe_ratio('csat_satisfied', 'csat_answers') }} as csat,
    {{ safe_ratio('fcr_engagements', 'closed_engagements') }} as fcr_rate,
    {{ safe_ratio('repeat_interactions', 'interactions') }} as repeat_contact_rate,
    {{ safe_ratio('answer_seconds', 'answered_calls') }} as asa_seconds,
    {{ safe_ratio('abandoned_calls', 'calls_entered_queue') }} as abandonment_rate,
    {{ safe_ratio('answered_within_service_level', 'calls_entered_queue') }} as service_level,
    {{ safe_ratio('handle_seconds', 'handled_contacts') }} as aht_seconds,
    {{ safe_ratio('transferred_calls', 'transfer_answered_calls') }} as transfer_rate,
    {{ safe_ratio('failed_self_service_uses', 'self_service_uses') }} as self_service_failure_rate,
    {{ safe_ratio('negative_interactions', 'scored_interactions') }} as negative_sentiment_share
from daily
