-- Self-service uses (docs/domain.md section 4: a FAQ visit, a bot-only chat, a contained IVR call) and whether the
-- same customer then needed an assisted contact (voice leg, text, agent chat, form) on the same intent, starting
-- after the use ended and within var('deflection_window_hours') of it: a self-service failure. Only contacts the
-- customer started count: a one-time code texted during a login self-service call, a reminder or a callback is
-- the company's message, not the customer needing help (DECISIONS.md).
-- Intent of both sides: the transaction's own intent, else its interaction's (DECISIONS.md).
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

assisted as (
    select transaction_id, customer_key, effective_intent as intent, started_at
    from transactions
    where is_assisted and is_customer_initiated
),

followed as (
    select
        uses.use_id,
        min(assisted.started_at) as first_assisted_at,
        count(*) as assisted_contacts
    from uses
    inner join assisted
        on uses.customer_key = assisted.customer_key
        and uses.intent = assisted.intent
        -- Without a known intent there is no "same problem" to fail on.
        and uses.intent not in ('unknown', 'unmapped')
        and assisted.started_at >= uses.ended_at
        and assisted.started_at < {{ dbt.dateadd('hour', var('deflection_window_hours'), 'uses.ended_at') }}
    group by uses.use_id
)

select
    uses.*,
    uses.intent not in ('unknown', 'unmapped') as is_intent_known,
    followed.first_assisted_at,
    coalesce(followed.assisted_contacts, 0) as assisted_contacts_after,
    followed.use_id is not null as is_failed
from uses
left join followed on uses.use_id = followed.use_id
