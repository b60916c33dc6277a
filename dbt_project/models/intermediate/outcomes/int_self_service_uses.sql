-- Self-service uses (docs/domain.md section 4: a FAQ visit, a bot-only chat, a contained IVR call) and whether the
-- same customer then needed an assisted contact (voice leg, text, agent chat, form) on the same intent, starting
-- after the use ended and within var('deflection_window_hours') of it: a self-service failure. Only contacts the
-- customer started count: a one-time code texted during a login self-service call, a reminder or a callback is
-- the company's message, not the customer needing help (DECISIONS.md).
-- Intent of both sides: the transaction's own intent, else its interaction's (DECISIONS.md). The rule is the macro
-- assisted_contacts_after (macros/self_service.sql), shared with int_faq_article_reads.
with transactions as (
    select * from {{ ref('fct_transactions') }}
),

uses as (
    select
        transaction_id as use_id,
        case transaction_type
            when 'faq_visit' then 'faq_visit'
            when 'chat_bot' then 'bot_only_chat'
            when 'ivr' then 'contained_ivr'
        end as use_type,
        source_id,
        customer_key,
        interaction_id,
        effective_intent as intent,
        started_at,
        ended_at
    from transactions
    where transaction_type = 'faq_visit'
        or (transaction_type = 'chat_bot' and outcome = 'bot_only')
        or (transaction_type = 'ivr' and outcome = 'contained')
),

followed as (
    {{ assisted_contacts_after('uses', 'use_id', 'ended_at') }}
)

select
    uses.*,
    uses.intent not in ('unknown', 'unmapped') as is_intent_known,
    followed.first_assisted_at,
    coalesce(followed.assisted_contacts, 0) as assisted_contacts_after,
    followed.use_id is not null as is_failed
from uses
left join followed on uses.use_id = followed.use_id
