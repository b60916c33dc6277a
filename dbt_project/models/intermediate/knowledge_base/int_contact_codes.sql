-- Every code a contact carries that could say why the customer got in touch, one row per (record, code),
-- with its position so that "first mapped code wins" can be applied downstream.
with ivr as (
    select
        'ivr' as record_type,
        call_id as record_id,
        'ivr_node' as code_type,
        lower(node) as code,
        event_at as seen_at,
        seq as code_position
    from {{ ref('stg_phone_system__ivr_events') }}
    where node is not null and event_type = 'menu_enter'
),

dispositions as (
    select
        'call_leg' as record_type,
        call_id as record_id,
        'call_disposition' as code_type,
        lower(disposition) as code,
        coalesce(answered_at, started_at) as seen_at,
        0 as code_position
    from {{ ref('stg_phone_system__calls') }}
    where disposition is not null
),

bot_intents as (
    select
        'chat' as record_type,
        conversation_id as record_id,
        'chat_bot_intent' as code_type,
        lower(bot_intent) as code,
        created_at as seen_at,
        0 as code_position
    from {{ ref('stg_chat__conversations') }}
    where bot_intent is not null
),

chat_tags as (
    select
        'chat' as record_type,
        tags.conversation_id as record_id,
        'chat_tag' as code_type,
        lower(tags.tag) as code,
        conversations.created_at as seen_at,
        1 + tags.tag_index as code_position
    from {{ ref('stg_chat__tags') }} as tags
    inner join {{ ref('stg_chat__conversations') }} as conversations
        on tags.conversation_id = conversations.conversation_id
),

faq_articles as (
    select
        'faq_view' as record_type,
        view_id as record_id,
        'faq_article' as code_type,
        lower(article_id) as code,
        viewed_at as seen_at,
        0 as code_position
    from {{ ref('stg_help_center__faq_views') }}
),

form_topics as (
    select
        'form' as record_type,
        response_id as record_id,
        'form_topic' as code_type,
        lower(topic) as code,
        submitted_at as seen_at,
        0 as code_position
    from {{ ref('stg_forms__submissions') }}
    where topic is not null
),

ticket_tags as (
    select
        'ticket' as record_type,
        tags.ticket_id as record_id,
        'ticket_tag' as code_type,
        lower(tags.tag) as code,
        tickets.created_at as seen_at,
        tags.tag_index as code_position
    from {{ ref('stg_tickets__tags') }} as tags
    inner join {{ ref('stg_tickets__tickets') }} as tickets on tags.ticket_id = tickets.ticket_id
),

unioned as (
    select * from ivr
    union all select * from dispositions
    union all select * from bot_intents
    union all select * from chat_tags
    union all select * from faq_articles
    union all select * from form_topics
    union all select * from ticket_tags
),

non_intent_codes as (
    -- Codes that say nothing about why the customer got in touch (the IVR's main menu): neither mapped nor
    -- listed as unmapped.
    select lower(trim(code_type)) as code_type, lower(trim(code)) as code
    from {{ ref('non_intent_codes') }}
)

select
    unioned.record_type,
    unioned.record_id,
    unioned.code_type,
    unioned.code,
    unioned.seen_at,
    unioned.code_position,
    intent_codes.intent,
    intent_codes.intent is not null as is_mapped
from unioned
left join {{ ref('int_intent_codes') }} as intent_codes
    on unioned.code_type = intent_codes.code_type and unioned.code = intent_codes.code
left join non_intent_codes
    on unioned.code_type = non_intent_codes.code_type and unioned.code = non_intent_codes.code
where non_intent_codes.code is null
