-- Agent scorecard per agent and week (Monday): handled contacts (answered call legs and agent chats), AHT,
-- FCR of the engagements the agent handled first, CSAT of the answers rating the agent's contacts, transfer-out
-- rate over answered inbound legs (an outbound call is never transferred) and the share of the agent's
-- interactions with negative customer sentiment. An agent is flagged for coaching on a rate that is
-- var('coaching_rate_gap') worse than the team's the same week, and only when the difference is more than
-- chance: the rate rests on at least var('coaching_min_sample') contacts and its Wilson interval
-- (var('coaching_confidence_z')) leaves the team's rate out. One bad survey answer is not a coaching case
-- (DECISIONS.md).
with legs as (
    select * from {{ ref('int_call_legs_chained') }}
),

call_work as (
    select
        agent_id,
        {{ reporting_date('answered_at') }} as activity_date,
        count(*) as handled_calls,
        0 as handled_chats,
        sum(
            {{ leg_handle_seconds() }}
        ) as handle_seconds,
        sum(case when root_direction = 'inbound' then 1 else 0 end) as handled_inbound_calls,
        sum(case when root_direction = 'inbound' and transfers_out > 0 then 1 else 0 end) as transferred_calls
    from legs
    where answered_at is not null and agent_id is not null
    group by 1, 2
),

chat_work as (
    select
        agent_id,
        {{ reporting_date('started_at') }} as activity_date,
        0 as handled_calls,
        count(*) as handled_chats,
        sum(coalesce(duration_seconds, 0)) as handle_seconds,
        0 as handled_inbound_calls,
        0 as transferred_calls
    from {{ ref('fct_transactions') }}
    where transaction_type = 'chat_agent' and agent_id is not null
    group by 1, 2
),

ticket_work as (
    -- Ticket requests the agent answered (first public reply): work, but outside handled contacts and AHT, since a
    -- help desk exports no handle time (DECISIONS.md "Tickets").
    select
        agent_id,
        {{ reporting_date('first_reply_at') }} as activity_date,
        count(*) as answered_ticket_requests
    from {{ ref('int_ticket_requests_segmented') }}
    where first_reply_at is not null and agent_id is not null
    group by 1, 2
),

first_interactions as (
    select engagement_id, last_agent_id as agent_id
    from {{ ref('fct_interactions') }}
    where sequence_in_engagement = 1 and last_agent_id is not null
),

resolution as (
    select
        first_interactions.agent_id,
        {{ reporting_date('engagements.started_at') }} as activity_date,
        sum(case when engagements.is_first_contact_resolved is not null then 1 else 0 end) as closed_engagements,
        sum(case when engagements.is_first_contact_resolved then 1 else 0 end) as fcr_engagements
    from {{ ref('fct_engagements') }} as engagements
    inner join first_interactions on engagements.engagement_id = first_interactions.engagement_id
    group by 1, 2
),

csat as (
    select
        transactions.agent_id,
        {{ reporting_date('answers.responded_at') }} as activity_date,
        count(*) as csat_answers,
        sum(case when answers.is_csat_satisfied then 1 else 0 end) as csat_satisfied
    from {{ ref('fct_survey_answers') }} as answers
    inner join {{ ref('fct_transactions') }} as transactions
        on answers.transaction_id = transactions.transaction_id
    where answers.survey_type = 'csat' and answers.is_valid_score and transactions.agent_id is not null
    group by 1, 2
),

sentiment as (
    select
        interactions.last_agent_id as agent_id,
        {{ reporting_date('interactions.started_at') }} as activity_date,
        count(*) as scored_interactions,
        sum(case when scored.sentiment = 'negative' then 1 else 0 end) as negative_interactions
    from {{ ref('int_interaction_sentiment') }} as scored
    inner join {{ ref('fct_interactions') }} as interactions on scored.interaction_id = interactions.interaction_id
    where interactions.last_agent_id is not null
    group by 1, 2
),

daily as (
    select agent_id, activity_date, handled_calls, handled_chats, handle_seconds, handled_inbound_calls,
        transferred_calls, 0 as closed_engagements, 0 as fcr_engagements, 0 as csat_answers, 0 as csat_satisfied,
        0 as scored_interactions, 0 as negative_interactions, 0 as answered_ticket_requests
    from call_work
    union all
    select agent_id, activity_date, handled_calls, handled_chats, handle_seconds, handled_inbound_calls,
        transferred_calls, 0, 0, 0, 0, 0, 0, 0
    from chat_work
    union all
    select agent_id, activity_date, 0, 0, 0, 0, 0, closed_engagements, fcr_engagements, 0, 0, 0, 0, 0 from resolution
    union all
    select agent_id, activity_date, 0, 0, 0, 0, 0, 0, 0, csat_answers, csat_satisfied, 0, 0, 0 from csat
    union all
    select agent_id, activity_date, 0, 0, 0, 0, 0, 0, 0, 0, 0, scored_interactions, negative_interactions, 0
    from sentiment
    union all
    select agent_id, activity_date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, answered_ticket_requests
    from ticket_work
),

weekly as (
    select
        cast({{ dbt.date_trunc('week', 'activity_date') }} as date) as week_start,
        agent_id,
        cast(sum(handled_calls) as bigint) as handled_calls,
        cast(sum(handled_chats) as bigint) as handled_chats,
        cast(sum(handled_calls + handled_chats) as bigint) as handled_contacts,
        cast(sum(handle_seconds) as bigint) as handle_seconds,
        cast(sum(handled_inbound_calls) as bigint) as handled_inbound_calls,
        cast(sum(transferred_calls) as bigint) as transferred_calls,
        cast(sum(closed_engagements) as bigint) as closed_engagements,
        cast(sum(fcr_engagements) as bigint) as fcr_engagements,
        cast(sum(csat_answers) as bigint) as csat_answers,
        cast(sum(csat_satisfied) as bigint) as csat_satisfied,
        cast(sum(scored_interactions) as bigint) as scored_interactions,
        cast(sum(negative_interactions) as bigint) as negative_interactions,
        cast(sum(answered_ticket_requests) as bigint) as answered_ticket_requests
    from daily
    group by 1, 2
),

rated as (
    select
        weekly.*,
        {{ metric_sql('aht_seconds') }} as aht_seconds,
        {{ metric_sql('fcr_rate') }} as fcr_rate,
        {{ metric_sql('csat_rate') }} as csat_rate,
        {{ metric_sql('transfer_out_rate') }} as transfer_out_rate,
        {{ metric_sql('negative_sentiment_share') }} as negative_sentiment_share
    from weekly
),

team as (
    select
        week_start,
        {{ metric_sql('fcr_rate', aggregate=true) }} as team_fcr_rate,
        {{ metric_sql('csat_rate', aggregate=true) }} as team_csat_rate,
        {{ metric_sql('transfer_out_rate', aggregate=true) }} as team_transfer_out_rate,
        {{ metric_sql('negative_sentiment_share', aggregate=true) }} as team_negative_sentiment_share
    from weekly
    group by week_start
),

flagged as (
    select
        rated.*,
        team.team_fcr_rate,
        team.team_csat_rate,
        team.team_transfer_out_rate,
        team.team_negative_sentiment_share,
        {{ coaching_flag('rated.fcr_engagements', 'rated.closed_engagements', 'rated.fcr_rate',
                         'team.team_fcr_rate', 'lower') }} as is_low_fcr,
        {{ coaching_flag('rated.csat_satisfied', 'rated.csat_answers', 'rated.csat_rate',
                         'team.team_csat_rate', 'lower') }} as is_low_csat,
        {{ coaching_flag('rated.transferred_calls', 'rated.handled_inbound_calls', 'rated.transfer_out_rate',
                         'team.team_transfer_out_rate', 'higher') }} as is_high_transfer_out,
        {{ coaching_flag('rated.negative_interactions', 'rated.scored_interactions', 'rated.negative_sentiment_share',
                         'team.team_negative_sentiment_share', 'higher') }} as is_high_negative_sentiment
    from rated
    inner join team on rated.week_start = team.week_start
)

select
    {{ dbt.hash("cast(week_start as " ~ dbt.type_string() ~ ") || '|' || agent_id") }} as agent_week_key,
    flagged.*,
    cast(
        (case when is_low_fcr then 1 else 0 end) + (case when is_low_csat then 1 else 0 end)
        + (case when is_high_transfer_out then 1 else 0 end) + (case when is_high_negative_sentiment then 1 else 0 end)
        as integer
    ) as coaching_flags
from flagged
