-- Every identifier seen on every record, as a keyed hash (identifier_node). Identifiers on the same record
-- are what links them (docs/domain.md section 3). Company-side numbers (the number a customer dials) are not
-- customer identifiers: only the customer's side of a call or text is taken. The hash (HMAC of type:value) is
-- computed by the loader in Python (contact_warehouse/enrichment) and read from staging: no engine function,
-- and the key never reaches SQL.
-- Incremental by record (DECISIONS.md "Identity resolution incremental by record, identifier and component"):
-- every record is one staging row, and _load_seq is the load of the version its identifiers come from. A nightly
-- run reads the staging rows of new loads only (new_loads_only), after the pre-hook has deleted the earlier
-- version's identifiers of every record they carry (a corrected record may have lost one).
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    pre_hook="{{ delete_redelivered_records() }}",
) }}

with crm_new as (
    select
        *,
        {{ record_identifiers(['customer_ref', 'customer_ref_node', 'email_node', 'phone_node']) }}
            as _record_identifiers
    from {{ ref('stg_crm__customers') }}
    {{ new_loads_only() }}
),

calls_new as (
    select
        *,
        {{ record_identifiers(['customer_ref', 'customer_ref_node', 'direction', 'from_phone_node', 'to_phone_node']) }}
            as _record_identifiers
    from {{ ref('stg_phone_system__calls') }}
    {{ new_loads_only() }}
),

sms_new as (
    select
        *,
        {{ record_identifiers(['direction', 'from_phone_node', 'to_phone_node']) }}
            as _record_identifiers
    from {{ ref('stg_phone_system__sms_messages') }}
    {{ new_loads_only() }}
),

surveys_new as (
    select
        *,
        {{ record_identifiers([
            'respondent_customer_ref', 'respondent_customer_ref_node', 'respondent_email_node', 'respondent_phone_node'
        ]) }}
            as _record_identifiers
    from {{ ref('stg_phone_system__survey_answers') }}
    {{ new_loads_only() }}
),

faq_views_new as (
    select
        *,
        {{ record_identifiers(['customer_ref', 'customer_ref_node', 'visitor_id_node']) }}
            as _record_identifiers
    from {{ ref('stg_help_center__faq_views') }}
    {{ new_loads_only() }}
),

chats_new as (
    select
        *,
        {{ record_identifiers([
            'visitor_customer_ref', 'visitor_customer_ref_node', 'visitor_email_node', 'visitor_phone_node',
            'visitor_id_node'
        ]) }}
            as _record_identifiers
    from {{ ref('stg_chat__conversations') }}
    {{ new_loads_only() }}
),

forms_new as (
    select
        *,
        {{ record_identifiers(['email_node', 'phone_node', 'visitor_id_node']) }}
            as _record_identifiers
    from {{ ref('stg_forms__submissions') }}
    {{ new_loads_only() }}
),

tickets_new as (
    select
        *,
        {{ record_identifiers([
            'requester_customer_ref', 'requester_customer_ref_node', 'requester_email_node', 'requester_phone_node'
        ]) }}
            as _record_identifiers
    from {{ ref('stg_tickets__tickets') }}
    {{ new_loads_only() }}
),

customers as (
    select 'crm_customer' as record_type, customer_ref as record_id, 'customer_ref' as identifier_type,
        customer_ref as identifier_value, customer_ref_node as identifier_node, _load_seq, _record_identifiers
    from crm_new
    union all
    select 'crm_customer', customer_ref, 'email', email, email_node, _load_seq, _record_identifiers from crm_new
    union all
    select 'crm_customer', customer_ref, 'phone', phone, phone_node, _load_seq, _record_identifiers from crm_new
),

calls as (
    select 'call_leg' as record_type, call_id as record_id, 'customer_ref' as identifier_type,
        customer_ref as identifier_value, customer_ref_node as identifier_node, _load_seq, _record_identifiers
    from calls_new
    union all
    select 'call_leg', call_id, 'phone',
        case when direction = 'outbound' then to_phone else from_phone end,
        case when direction = 'outbound' then to_phone_node else from_phone_node end,
        _load_seq,
        _record_identifiers
    from calls_new
),

sms as (
    select 'sms' as record_type, message_id as record_id, 'phone' as identifier_type,
        case when direction = 'outbound' then to_phone else from_phone end as identifier_value,
        case when direction = 'outbound' then to_phone_node else from_phone_node end as identifier_node,
        _load_seq,
        _record_identifiers
    from sms_new
),

surveys as (
    select 'survey' as record_type, response_id as record_id, 'email' as identifier_type,
        respondent_email as identifier_value, respondent_email_node as identifier_node, _load_seq, _record_identifiers
    from surveys_new
    union all
    select 'survey', response_id, 'phone', respondent_phone, respondent_phone_node, _load_seq, _record_identifiers
    from surveys_new
    union all
    select 'survey', response_id, 'customer_ref', respondent_customer_ref, respondent_customer_ref_node,
    _load_seq, _record_identifiers
    from surveys_new
),

faq_views as (
    select 'faq_view' as record_type, view_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value, visitor_id_node as identifier_node, _load_seq, _record_identifiers
    from faq_views_new
    union all
    select 'faq_view', view_id, 'customer_ref', customer_ref, customer_ref_node, _load_seq, _record_identifiers
    from faq_views_new
),

chats as (
    select 'chat' as record_type, conversation_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value, visitor_id_node as identifier_node, _load_seq, _record_identifiers
    from chats_new
    union all
    select 'chat', conversation_id, 'email', visitor_email, visitor_email_node, _load_seq, _record_identifiers
    from chats_new
    union all
    select 'chat', conversation_id, 'phone', visitor_phone, visitor_phone_node, _load_seq, _record_identifiers
    from chats_new
    union all
    select 'chat', conversation_id, 'customer_ref', visitor_customer_ref, visitor_customer_ref_node,
    _load_seq, _record_identifiers
    from chats_new
),

forms as (
    select 'form' as record_type, response_id as record_id, 'visitor_id' as identifier_type,
        visitor_id as identifier_value, visitor_id_node as identifier_node, _load_seq, _record_identifiers
    from forms_new
    union all
    select 'form', response_id, 'email', email, email_node, _load_seq, _record_identifiers from forms_new
    union all
    select 'form', response_id, 'phone', phone, phone_node, _load_seq, _record_identifiers from forms_new
),

tickets as (
    select 'ticket' as record_type, ticket_id as record_id, 'email' as identifier_type,
        requester_email as identifier_value, requester_email_node as identifier_node, _load_seq, _record_identifiers
    from tickets_new
    union all
    select 'ticket', ticket_id, 'phone', requester_phone, requester_phone_node, _load_seq, _record_identifiers
    from tickets_new
    union all
    select 'ticket', ticket_id, 'customer_ref', requester_customer_ref, requester_customer_ref_node,
    _load_seq, _record_identifiers
    from tickets_new
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
    case when identifier_type = 'customer_ref' then identifier_value end as customer_ref,
    _load_seq,
    _record_identifiers
from present
