-- The coaching plan: per agent, the intents on which the agent's FCR, CSAT or handle time is worse than the
-- agent's peers on the same intent over the whole period, by the agent scorecard's rule (coaching_flag: a gap of
-- var('coaching_rate_gap'), at least var('coaching_min_sample') contacts, outside the Wilson interval) and, for
-- handle time, its counterpart for means (coaching_flag_mean). One row per agent x intent with at least one flag,
-- each figure beside the contacts behind it and the peers' figure.
-- Handle time: answered call legs (both directions: an agent's outbound call is work) and agent chats.
with work as (
    select
        agent_id,
        intent,
        count(*) as handled_contacts,
        sum(handle_seconds) as handle_seconds,
        sum(cast(handle_seconds as {{ type_double() }}) * handle_seconds) as handle_seconds_squared
    from {{ ref('int_agent_contacts_timed') }}
    where is_answered_leg or transaction_type = 'chat_agent'
    group by 1, 2
),

-- FCR: the engagements the agent handled first, as in the scorecard.
resolution as (
    select
        interactions.last_agent_id as agent_id,
        engagements.intent,
        sum(case when engagements.is_first_contact_resolved is not null then 1 else 0 end) as closed_engagements,
        sum(case when engagements.is_first_contact_resolved then 1 else 0 end) as fcr_engagements
    from {{ ref('fct_engagements') }} as engagements
    inner join {{ ref('fct_interactions') }} as interactions
        on engagements.engagement_id = interactions.engagement_id and interactions.sequence_in_engagement = 1
    where interactions.last_agent_id is not null
    group by 1, 2
),

csat as (
    select
        transactions.agent_id,
        transactions.effective_intent as intent,
        count(*) as csat_answers,
        sum(case when answers.is_csat_satisfied then 1 else 0 end) as csat_satisfied
    from {{ ref('fct_survey_answers') }} as answers
    inner join {{ ref('fct_transactions') }} as transactions on answers.transaction_id = transactions.transaction_id
    where answers.survey_type = 'csat' and answers.is_valid_score and transactions.agent_id is not null
    group by 1, 2
),

pairs as (
    select agent_id, intent from work
    union
    select agent_id, intent from resolution
    union
    select agent_id, intent from csat
),

combined as (
    select
        pairs.agent_id,
        pairs.intent,
        cast(coalesce(resolution.closed_engagements, 0) as bigint) as closed_engagements,
        cast(coalesce(resolution.fcr_engagements, 0) as bigint) as fcr_engagements,
        cast(coalesce(csat.csat_answers, 0) as bigint) as csat_answers,
        cast(coalesce(csat.csat_satisfied, 0) as bigint) as csat_satisfied,
        cast(coalesce(work.handled_contacts, 0) as bigint) as handled_contacts,
        cast(coalesce(work.handle_seconds, 0) as bigint) as handle_seconds,
        coalesce(work.handle_seconds_squared, 0) as handle_seconds_squared
    from pairs
    left join work on pairs.agent_id = work.agent_id and pairs.intent = work.intent
    left join resolution on pairs.agent_id = resolution.agent_id and pairs.intent = resolution.intent
    left join csat on pairs.agent_id = csat.agent_id and pairs.intent = csat.intent
    where pairs.intent not in ('unknown', 'unmapped')
),

peers as (
    select
        intent,
        -- The rates are the semantic layer's metrics (macro metric_sql), over the agent's and the peers' counts.
        {{ metric_sql('fcr_rate', aggregate=true) }} as peer_fcr_rate,
        {{ metric_sql('csat_rate', aggregate=true) }} as peer_csat_rate,
        {{ metric_sql('aht_seconds', aggregate=true) }} as peer_aht_seconds,
        sum(handle_seconds_squared) as peer_handle_seconds_squared,
        sum(handled_contacts) as peer_handled_contacts
    from combined
    group by intent
),

flagged as (
    select
        combined.agent_id,
        combined.intent,
        combined.closed_engagements,
        combined.fcr_engagements,
        {{ metric_sql('fcr_rate', relation='combined') }} as fcr_rate,
        peers.peer_fcr_rate,
        combined.csat_answers,
        combined.csat_satisfied,
        {{ metric_sql('csat_rate', relation='combined') }} as csat_rate,
        peers.peer_csat_rate,
        combined.handled_contacts,
        {{ metric_sql('aht_seconds', relation='combined') }} as aht_seconds,
        peers.peer_aht_seconds,
        {{ coaching_flag('combined.fcr_engagements', 'combined.closed_engagements',
                         metric_sql('fcr_rate', relation='combined'),
                         'peers.peer_fcr_rate', 'lower') }} as is_low_fcr,
        {{ coaching_flag('combined.csat_satisfied', 'combined.csat_answers',
                         metric_sql('csat_rate', relation='combined'),
                         'peers.peer_csat_rate', 'lower') }} as is_low_csat,
        {{ coaching_flag_mean('combined.handle_seconds', 'combined.handle_seconds_squared',
                              'combined.handled_contacts', 'peers.peer_aht_seconds',
                              'peers.peer_handle_seconds_squared', 'peers.peer_handled_contacts') }} as is_high_aht
    from combined
    inner join peers on combined.intent = peers.intent
)

select
    {{ dbt.hash("agent_id || '|' || intent") }} as coaching_key,
    flagged.*,
    cast(
        (case when is_low_fcr then 1 else 0 end) + (case when is_low_csat then 1 else 0 end)
        + (case when is_high_aht then 1 else 0 end) as integer
    ) as coaching_flags
from flagged
where is_low_fcr or is_low_csat or is_high_aht
