-- One row per scored text (docs/domain.md section 5, sentiment): chat messages of the customer and of the agent (bot
-- messages are scripted and left out), inbound text messages and survey comments, each with its VADER compound
-- score and class, and the transaction and interaction it belongs to where known:
--   chat message   -> its chat transaction (bot or agent part), as fct_events assigns it;
--   text message   -> its sms_thread_day transaction, as fct_events assigns it;
--   survey comment -> the transaction the answer rates (fct_survey_answers).
-- The score is computed by the loader in Python (contact_warehouse/enrichment) and read from staging; empty texts
-- get no score and no row. The text itself is not carried (customers write phone numbers and e-mails in
-- messages: raw identifiers stay in staging).
-- Incremental by text, judged by customer (macros/incremental_sentiment.sql): the pre-hook deletes the rows of the
-- customers whose int_engagement_fingerprints changed, the rows no fingerprint covers and the re-delivered texts; a
-- nightly run builds the texts left without a row.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_sentiment_texts() }}",
) }}

with chat_texts as (
    select
        'chat:' || message_id as text_id,
        'chat_message' as source_type,
        'chat' as channel,
        author as author_role,
        conversation_id as source_id,
        sent_at as written_at,
        message_text_sentiment as compound,
        _load_seq
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
        body_sentiment as compound,
        _load_seq
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
        comment_sentiment as compound,
        _load_seq
    from {{ ref('stg_phone_system__survey_answers') }}
),

texts as (
    select * from chat_texts
    union all
    select * from sms_texts
    union all
    select * from survey_texts
),

scored as (
    -- On an incremental run, the texts without a row (new, re-delivered, or deleted by the pre-hook).
    select
        texts.text_id,
        texts.source_type,
        texts.channel,
        texts.author_role,
        texts.source_id,
        texts.written_at,
        texts.compound,
        texts._load_seq
    from texts
    {%- if is_incremental() %}
    left join (select text_id from {{ this }}) as built on texts.text_id = built.text_id
    {%- endif %}
    where texts.compound is not null
    {%- if is_incremental() %}
        and built.text_id is null
    {%- endif %}
),

message_transactions as (
    select event_id, transaction_id
    from {{ ref('fct_events') }}
    where channel in ('chat', 'sms')
    {%- if is_incremental() %}
        and event_id in (select text_id from scored where source_type in ('chat_message', 'sms'))
    {%- endif %}
),

transactions as (
    select transaction_id, interaction_id, customer_key from {{ ref('fct_transactions') }}
    {%- if is_incremental() %}
    where transaction_id in (select transaction_id from message_transactions)
    {%- endif %}
),

survey_answers as (
    select response_id, transaction_id, interaction_id, engagement_id, customer_key from {{ ref('fct_survey_answers') }}
    {%- if is_incremental() %}
    where response_id in (select source_id from scored where source_type = 'survey_comment')
    {%- endif %}
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
    coalesce(transactions.customer_key, survey_answers.customer_key) as customer_key,
    scored._load_seq,
    -- The fingerprint of the customer whose inputs the row depends on: a message's transaction's customer, or a
    -- comment's answer's customer when the answer is matched to an engagement (it is then in that customer's
    -- fingerprint). NULL otherwise: the row is built again every night.
    case
        when transactions.transaction_id is not null or survey_answers.engagement_id is not null
            then {{ sentiment_fingerprint('fingerprints.input_fingerprint') }}
    end as _input_fingerprint
from scored
left join message_transactions
    on scored.source_type in ('chat_message', 'sms') and scored.text_id = message_transactions.event_id
left join transactions on message_transactions.transaction_id = transactions.transaction_id
left join survey_answers
    on scored.source_type = 'survey_comment' and scored.source_id = survey_answers.response_id
left join {{ ref('int_engagement_fingerprints') }} as fingerprints
    on coalesce(transactions.customer_key, survey_answers.customer_key) = fingerprints.customer_key
