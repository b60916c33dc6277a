-- Every identifier seen on every record, as a keyed hash (identifier_node). Identifiers on the same record
-- are what links them (docs/domain.md section 3). Company-side numbers (the number a customer dials) are not
-- customer identifiers: only the customer's side of a call or text is taken. The hash (HMAC of type:value) is
-- computed by the loader in Python (contact_warehouse/enrichment) and read from staging: no engine function,
-- and the key never reaches SQL.
with customers as (
    select 'crm_customer' as record_type, customer_ref as record_id, 'customer_ref' as identifier_type,
        customer_ref as identifier_value, customer_ref_node as identifier_node
    from {{ ref('stg_crm__customers') }}
    union all
    select 'crm_customer', customer_ref, 'email', email, email_node from {{ ref('stg_crm__customers') }}
    union all
    select 'crm_customer', customer_ref, 'phone', phone, phone_node from {{ ref('stg_crm__customers') }}
),

calls as (
    select 'call_leg' as record_type, call_id as record_id, 'customer_ref' as identifier_type,
        customer_ref as identifier_value, customer_ref_node as identifier_node
    from {{ ref('stg_phone_system__calls') }}
    union all
    select 'call_leg', call_id, 'phone',
        case when direction = 'outbound' then to_phone else from_phone end,
        case when direction = 'outbound' then to_phone_node else from_phone_node end
    from {{ ref('stg_phone_system__calls') }}
),

sms as (
    select 'sms' as record_type, message_id as record_id, 'phone' as identifier_type,
        case when direction = 'outbound' then to_phone else from_phone end as identifier_value,
        case when direction = 'outbound' then to_phone_node else from_phone_node end as identifier_node
    from {{ ref('stg_phone_system__sms_messages') }}
),

surveys as (
    select 'survey' as record_type, response_id as record_id, 'email' as identifier_type,
        respondent_email as identifier_value, respondent_email_node as identifier_node
    from {{ ref('stg_phone_system__survey_answers') }}
    union all
    select 'survey', response_id, 'phone', respondent_phone, respondent_phone_node
    from {{ ref('stg_phone_system__survey_answers') }}
    union all
    select 'survey', response_id, 'customer_ref', respondent_customer_ref, respondent_customer_ref_node
    from {{ ref('stg_phone_system__survey_answers') }}
),

faq_views as (
    select 'faq_view' as record_type, view_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value, visitor_id_node as identifier_node
    from {{ ref('stg_help_center__faq_views') }}
    union all
    select 'faq_view', view_id, 'customer_ref', customer_ref, customer_ref_node
    from {{ ref('stg_help_center__faq_views') }}
),

chats as (
    select 'chat' as record_type, conversation_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value, visitor_id_node as identifier_node
    from {{ ref('stg_chat__conversations') }}
    union all
    select 'chat', conversation_id, 'email', visitor_email, visitor_email_node
    from {{ ref('stg_chat__conversations') }}
    union all
    select 'chat', conversation_id, 'phone', visitor_phone, visitor_phone_node
    from {{ ref('stg_chat__conversations') }}
    union all
    select 'chat', conversation_id, 'customer_ref', visitor_customer_ref, visitor_customer_ref_node
    from {{ ref('stg_chat__conversations') }}
),

forms as (
    select 'form' as record_type, response_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value, visitor_id_node as identifier_node
    from {{ ref('stg_forms__submissions') }}
    union all
    select 'form', response_id, 'email', email, email_node from {{ ref('stg_forms__submissions') }}
    union all
    select 'form', response_id, 'phone', phone, phone_node from {{ ref('stg_forms__submissions') }}
),

tickets as (
    select 'ticket' as record_type, ticket_id as record_id, 'email' as identifier_type,
        requester_email as identifier_value, requester_email_node as identifier_node
    from {{ ref('stg_tickets__tickets') }}
    union all
    select 'ticket', ticket_id, 'phone', requester_phone, requester_phone_node from {{ ref('stg_tickets__tickets') }}
    union all
    select 'ticket', ticket_id, 'customer_ref', requester_customer_ref, requester_customer_ref_node
    from {{ ref('stg_tickets__tickets') }}
),

unioned as (
    select * from customers
    union all select * from calls
    union all select * from sms
    union all select * from surveys
    union all select * from faq_views
    union all select * from chats
    union all select * from forms
    union all select * from tickets
),

present as (
    select * from unioned
    where identifier_value is not null and trim(identifier_value) <> ''
)

select distinct
    record_type,
    record_id,
    identifier_type,
    identifier_node,
    case when identifier_type = 'customer_ref' then identifier_value end as customer_ref
from present
