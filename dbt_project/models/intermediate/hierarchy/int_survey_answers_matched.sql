-- Survey answers with the contact they rate: a call (any leg of it), a chat, or a text thread (its latest
-- day up to the answer). The answer belongs to the last transaction of that contact.
-- Answers come from the survey tool and from the chat tool's own 1-5 `rating` of a conversation: both are a
-- customer rating a contact on the CSAT scale, so CSAT counts both (DECISIONS.md "Chat ratings are CSAT
-- answers"). A rating is dated when the conversation closed (else its last message, else its start).
-- A help-desk ticket's good/bad satisfaction rating is a CSAT answer too: good scores 5, bad 1 (the ends of the
-- scale: good is satisfied in the top-two box, bad is not); an offered rating the requester never gave is no answer
-- (DECISIONS.md "Ticket ratings are CSAT answers"). It is dated when given and rates the ticket's last request
-- before it.
-- Incremental by answer (macros/incremental_survey_answers.sql): a nightly run matches again only the answers whose
-- source row was loaded again, whose contact's transactions changed, or whose matched customer changed.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_survey_answers_to_rematch() }}",
) }}
with survey_tool as (
    select response_id, survey_type, channel, contact_id, responded_at, score, 'survey_tool' as answer_source
    from {{ ref('stg_phone_system__survey_answers') }}
    {{ survey_answers_without_rows('response_id') }}
),

rated_conversations as (
    select conversation_id, closed_at, created_at, rating
    from {{ ref('stg_chat__conversations') }}
    where rating is not null
    {%- if is_incremental() %}
        and 'chat_rating:' || conversation_id not in (select response_id from {{ this }})
    {%- endif %}
),

last_messages as (
    {{ chat_last_messages('select conversation_id from rated_conversations' if is_incremental() else none) }}
),

chat_ratings as (
    select
        'chat_rating:' || conversations.conversation_id as response_id,
        'csat' as survey_type,
        'chat' as channel,
        conversations.conversation_id as contact_id,
        coalesce(conversations.closed_at, last_messages.last_message_at, conversations.created_at) as responded_at,
        conversations.rating as score,
        'chat_rating' as answer_source
    from rated_conversations as conversations
    left join last_messages on conversations.conversation_id = last_messages.conversation_id
),

ticket_ratings as (
    select
        'ticket_rating:' || ticket_id as response_id,
        'csat' as survey_type,
        'email' as channel,
        ticket_id as contact_id,
        coalesce(satisfaction_rated_at, solved_at, updated_at, created_at) as responded_at,
        case satisfaction_score when 'good' then 5 when 'bad' then 1 end as score,
        'ticket_rating' as answer_source
    from {{ ref('stg_tickets__tickets') }}
    where satisfaction_score in ('good', 'bad')
    {%- if is_incremental() %}
        and 'ticket_rating:' || ticket_id not in (select response_id from {{ this }})
    {%- endif %}
),

surveys as (
    select * from survey_tool
    union all
    select * from chat_ratings
    union all
    select * from ticket_ratings
),

legs as (
    select call_id, root_call_id from {{ ref('int_call_legs_chained') }}
),

rated_contacts as (
    -- The calls and chats an answer can rate: the last transaction is ranked within these contacts only (whole
    -- contacts, so the ranks are those over every transaction), not within every contact of the history.
    select 'call:' || legs.root_call_id as contact_id
    from surveys
    inner join legs on surveys.contact_id = legs.call_id
    union
    select 'chat:' || contact_id as contact_id from surveys
),

transactions as (
    select
        transaction_id, interaction_id, transaction_type, source_id, contact_id, started_at, ended_at, customer_key
    from {{ ref('int_interactions_sessionized') }}
    {%- if is_incremental() %}
    -- On a nightly run, only the transactions the answers being matched can name: their calls' and chats'
    -- (rated_contacts), their text threads' and tickets' (by source id).
    where contact_id in (select contact_id from rated_contacts) or source_id in (select contact_id from surveys)
    {%- endif %}
),

last_transactions as (
    select
        contact_id,
        transaction_id,
        interaction_id,
        customer_key,
        row_number() over (partition by contact_id order by ended_at desc, transaction_id desc) as recency_rank
    from transactions
    where contact_id in (select contact_id from rated_contacts)
),

call_matches as (
    select surveys.response_id, transactions.transaction_id, transactions.interaction_id, 1 as match_priority,
        transactions.customer_key
    from surveys
    inner join legs on surveys.contact_id = legs.call_id
    inner join last_transactions as transactions
        on transactions.contact_id = 'call:' || legs.root_call_id and transactions.recency_rank = 1
),

chat_matches as (
    select surveys.response_id, transactions.transaction_id, transactions.interaction_id, 2 as match_priority,
        transactions.customer_key
    from surveys
    inner join last_transactions as transactions
        on transactions.contact_id = 'chat:' || surveys.contact_id and transactions.recency_rank = 1
),

sms_candidates as (
    select
        surveys.response_id,
        transactions.transaction_id,
        transactions.interaction_id,
        transactions.customer_key,
        row_number() over (
            partition by surveys.response_id order by transactions.started_at desc, transactions.transaction_id desc
        ) as candidate_rank
    from surveys
    inner join transactions
        on transactions.transaction_type = 'sms_thread_day'
        and transactions.source_id = surveys.contact_id
        and transactions.started_at <= surveys.responded_at
),

ticket_candidates as (
    -- The ticket's last request started before the rating (any request when the rating's time is unknown).
    select
        surveys.response_id,
        transactions.transaction_id,
        transactions.interaction_id,
        transactions.customer_key,
        row_number() over (
            partition by surveys.response_id order by transactions.started_at desc, transactions.transaction_id desc
        ) as candidate_rank
    from surveys
    inner join transactions
        on transactions.transaction_type = 'ticket_request'
        and transactions.source_id = surveys.contact_id
        and transactions.started_at <= surveys.responded_at
    where surveys.answer_source = 'ticket_rating'
),

matches as (
    select * from call_matches
    union all select * from chat_matches
    union all
    select response_id, transaction_id, interaction_id, 4 as match_priority, customer_key
    from ticket_candidates
    where candidate_rank = 1
    union all
    select response_id, transaction_id, interaction_id, 3 as match_priority, customer_key
    from sms_candidates
    where candidate_rank = 1
),

best_match as (
    select
        *,
        row_number() over (partition by response_id order by match_priority) as match_rank
    from matches
)

select
    surveys.response_id,
    surveys.survey_type,
    surveys.channel,
    surveys.contact_id,
    surveys.responded_at,
    surveys.score,
    surveys.answer_source,
    best_match.transaction_id,
    best_match.interaction_id,
    best_match.customer_key as _matched_customer_key,
    fingerprints.input_fingerprint as _matched_fingerprint,
    {{ survey_answers_watermarks() }}
from surveys
left join best_match on surveys.response_id = best_match.response_id and best_match.match_rank = 1
left join {{ ref('int_customer_fingerprints') }} as fingerprints on best_match.customer_key = fingerprints.customer_key
