-- One row per scored text (docs/domain.md section 5, sentiment): chat messages of the customer and of the agent (bot
-- messages are scripted and left out), inbound text messages and survey comments, each with its VADER compound
-- score and class, and the transaction and interaction it belongs to where known:
--   chat message   -> its chat transaction (bot or agent part), as fct_events assigns it;
--   text message   -> its sms_thread_day transaction, as fct_events assigns it;
--   survey comment -> the transaction the answer rates (fct_survey_answers).
-- The score is computed by the loader in Python (contact_warehouse/enrichment) and read from staging; empty texts
-- get no score and no row. The text itself is not carried (customers write phone numbers and e-mails in
-- messages: raw identifiers stay in staging).
{{ config(materialized='table') }}

with chat_texts as (
    select
        'chat:' || message_id as text_id,
        'chat_message' as source_type,
        'chat' as channel,
        author as author_role,
        conversation_id as source_id,
        sent_at as written_at,
        message_text_sentiment as compound
    from {{ ref('stg_chat__messages') }}
    where author in ('customer', 'agent')
),

sms_texts as (
    select
        'sms:' || message_id as text_id,
        'sms' as source_type,
        'sms' as channel,
        'customer' as author_role,
        thread_id as source_id,
        sent_at as written_at,
        body_sentiment as compound
    from {{ ref('stg_phone_system__sms_messages') }}
    where direction = 'inbound'
),

survey_texts as (
    select
        'survey:' || response_id as text_id,
        'survey_comment' as source_type,
        coalesce(channel, 'unknown') as channel,
        'customer' as author_role,
        response_id as source_id,
        responded_at as written_at,
        comment_sentiment as compound
    from {{ ref('stg_phone_system__survey_answers') }}
),

texts as (
    select * from chat_texts
    union all
    select * from sms_texts
    union all
    select * from survey_texts
),

message_transactions as (
    select event_id, transaction_id
    from {{ ref('fct_events') }}
    where channel in ('chat', 'sms')
),

transactions as (
    select transaction_id, interaction_id, customer_key from {{ ref('fct_transactions') }}
),

survey_answers as (
    select response_id, transaction_id, interaction_id, customer_key from {{ ref('fct_survey_answers') }}
),

scored as (
    select
        texts.text_id,
        texts.source_type,
        texts.channel,
        texts.author_role,
        texts.source_id,
        texts.written_at,
        texts.compound
    from texts
    where texts.compound is not null
)

select
    scored.text_id,
    scored.source_type,
    scored.channel,
    scored.author_role,
    scored.author_role = 'customer' as is_customer_text,
    scored.source_id,
    scored.written_at,
    scored.compound,
    {{ sentiment_class('scored.compound') }} as sentiment,
    coalesce(message_transactions.transaction_id, survey_answers.transaction_id) as transaction_id,
    coalesce(transactions.interaction_id, survey_answers.interaction_id) as interaction_id,
    coalesce(transactions.customer_key, survey_answers.customer_key) as customer_key
from scored
left join message_transactions
    on scored.source_type in ('chat_message', 'sms') and scored.text_id = message_transactions.event_id
left join transactions on message_transactions.transaction_id = transactions.transaction_id
left join survey_answers
    on scored.source_type = 'survey_comment' and scored.source_id = survey_answers.response_id
