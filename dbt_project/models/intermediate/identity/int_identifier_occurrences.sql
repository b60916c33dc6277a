-- Every identifier seen on every record, as a keyed hash (identifier_node). Identifiers on the same record
-- are what links them (docs/domain.md section 3). Company-side numbers (the number a customer dials) are not
-- customer identifiers: only the customer's side of a call or text is taken.
with customers as (
    select 'crm_customer' as record_type, customer_ref as record_id, 'customer_ref' as identifier_type,
        customer_ref as identifier_value
    from {{ ref('stg_crm__customers') }}
    union all
    select 'crm_customer', customer_ref, 'email', email from {{ ref('stg_crm__customers') }}
    union all
    select 'crm_customer', customer_ref, 'phone', phone from {{ ref('stg_crm__customers') }}
),

calls as (
    select 'call_leg' as record_type, call_id as record_id, 'customer_ref' as identifier_type,
        customer_ref as identifier_value
    from {{ ref('stg_phone_system__calls') }}
    union all
    select 'call_leg', call_id, 'phone', case when direction = 'outbound' then to_phone else from_phone end
    from {{ ref('stg_phone_system__calls') }}
),

sms as (
    select 'sms' as record_type, message_id as record_id, 'phone' as identifier_type,
        case when direction = 'outbound' then to_phone else from_phone end as identifier_value
    from {{ ref('stg_phone_system__sms_messages') }}
),

surveys as (
    select 'survey' as record_type, response_id as record_id, 'email' as identifier_type,
        respondent_email as identifier_value
    from {{ ref('stg_phone_system__survey_answers') }}
    union all
    select 'survey', response_id, 'phone', respondent_phone from {{ ref('stg_phone_system__survey_answers') }}
    union all
    select 'survey', response_id, 'customer_ref', respondent_customer_ref
    from {{ ref('stg_phone_system__survey_answers') }}
),

faq_views as (
    select 'faq_view' as record_type, view_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value
    from {{ ref('stg_help_center__faq_views') }}
    union all
    select 'faq_view', view_id, 'customer_ref', customer_ref from {{ ref('stg_help_center__faq_views') }}
),

chats as (
    select 'chat' as record_type, conversation_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value
    from {{ ref('stg_chat__conversations') }}
    union all
    select 'chat', conversation_id, 'email', visitor_email from {{ ref('stg_chat__conversations') }}
    union all
    select 'chat', conversation_id, 'phone', visitor_phone from {{ ref('stg_chat__conversations') }}
    union all
    select 'chat', conversation_id, 'customer_ref', visitor_customer_ref from {{ ref('stg_chat__conversations') }}
),

forms as (
    select 'form' as record_type, response_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value
    from {{ ref('stg_forms__submissions') }}
    union all
    select 'form', response_id, 'email', email from {{ ref('stg_forms__submissions') }}
    union all
    select 'form', response_id, 'phone', phone from {{ ref('stg_forms__submissions') }}
),

tickets as (
    select 'ticket' as record_type, ticket_id as record_id, 'email' as identifier_type,
        requester_email as identifier_value
    from {{ ref('stg_tickets__tickets') }}
    union all
    select 'ticket', ticket_id, 'phone', requester_phone from {{ ref('stg_tickets__tickets') }}
    union all
    select 'ticket', ticket_id, 'customer_ref', requester_customer_ref from {{ ref('stg_tickets__tickets') }}
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
),

-- Each distinct identifier is hashed once: the hash is a Python function called row by row, and the same
-- phone number or e-mail occurs on many records (a third of the calls at 10 million events).
hashed as (
    select
        identifier_type,
        identifier_value,
        -- A keyed hash of type:value: no raw phone number or e-mail leaves staging.
        {{ pii_hash("identifier_type || ':' || identifier_value") }} as identifier_node
    from (select distinct identifier_type, identifier_value from present) as distinct_identifiers
)

select distinct
    present.record_type,
    present.record_id,
    present.identifier_type,
    hashed.identifier_node,
    case when present.identifier_type = 'customer_ref' then present.identifier_value end as customer_ref
from present
inner join hashed
    on present.identifier_type = hashed.identifier_type and present.identifier_value = hashed.identifier_value
