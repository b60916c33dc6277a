-- Transactions with their customer and intent. Intent: the first mapped code of the transaction in time
-- (then in export order) wins; an agent's chat tags come before the bot's guess; a transaction whose codes
-- all map to nothing is 'unmapped'; one without any code has no intent (DECISIONS.md).
-- Incremental by unit (macros/incremental_transactions.sql; DECISIONS.md "int_transactions_enriched incremental
-- (issue 22, enriched2, 4 December, eighth session)"): the pre-hook deletes the rows of every call, chat, text
-- thread, FAQ visitor, form and ticket a night can change; a nightly run builds the units left without rows, the
-- union computed for them only.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed_transaction_units() }}",
) }}
{#- What the nightly run and the pre-hook read besides the view: ref() them here, where dbt sees it. -#}
{%- for model in transaction_staging_models() + ['stg_forms__answers', 'int_call_legs_chained',
    'int_faq_visits_sessionized', 'int_ticket_requests_segmented', 'int_intent_codes', 'non_intent_codes'] %}
{%- do ref(model) %}
{%- endfor %}
{%- do source('phone_system', 'calls') %}{% do source('phone_system', 'sms') %}
{%- do source('chat', 'chat_messages') %}{% do source('help_center', 'faq_views') %}
{%- do source('tickets', 'ticket_comments') %}

with
{%- if is_incremental() %}
{{ transaction_units_without_rows() }}

transactions as (
    {{ transactions_union(filtered=true) }}
),
{%- else %}
transactions as (
    select * from {{ ref('int_transactions_unioned') }}
),
{%- endif %}

codes as (
    select * from {{ ref('int_contact_codes') }}
),

visits as (
    select view_id, visit_id from {{ ref('int_faq_visits_sessionized') }}
),

candidates as (
    select transactions.transaction_id, codes.code_type, codes.code, codes.intent, codes.is_mapped,
        codes.seen_at, codes.code_position as priority
    from transactions
    inner join codes on codes.record_type = 'ivr' and codes.record_id = transactions.source_id
    where transactions.transaction_type = 'ivr'
    union all
    select transactions.transaction_id, codes.code_type, codes.code, codes.intent, codes.is_mapped,
        codes.seen_at, codes.code_position
    from transactions
    inner join codes on codes.record_type = 'call_leg' and codes.record_id = transactions.source_id
    where transactions.transaction_type = 'call_leg'
    union all
    select transactions.transaction_id, codes.code_type, codes.code, codes.intent, codes.is_mapped,
        codes.seen_at, codes.code_position
    from transactions
    inner join codes on codes.record_type = 'chat' and codes.record_id = transactions.source_id
    where transactions.transaction_type = 'chat_bot' and codes.code_type = 'chat_bot_intent'
    union all
    select transactions.transaction_id, codes.code_type, codes.code, codes.intent, codes.is_mapped,
        transactions.started_at,
        case when codes.code_type = 'chat_tag' then codes.code_position else 1000 end
    from transactions
    inner join codes on codes.record_type = 'chat' and codes.record_id = transactions.source_id
    where transactions.transaction_type = 'chat_agent'
    union all
    select transactions.transaction_id, codes.code_type, codes.code, codes.intent, codes.is_mapped,
        codes.seen_at, codes.code_position
    from transactions
    inner join visits on transactions.source_id = visits.visit_id
    inner join codes on codes.record_type = 'faq_view' and codes.record_id = visits.view_id
    where transactions.transaction_type = 'faq_visit'
    union all
    select transactions.transaction_id, codes.code_type, codes.code, codes.intent, codes.is_mapped,
        codes.seen_at, codes.code_position
    from transactions
    inner join codes on codes.record_type = 'form' and codes.record_id = transactions.source_id
    where transactions.transaction_type = 'form'
    union all
    -- Every request of a ticket carries the ticket's tags (the category the help desk gave the whole ticket).
    select transactions.transaction_id, codes.code_type, codes.code, codes.intent, codes.is_mapped,
        codes.seen_at, codes.code_position
    from transactions
    inner join codes on codes.record_type = 'ticket' and codes.record_id = transactions.source_id
    where transactions.transaction_type = 'ticket_request'
),

ranked as (
    select
        *,
        row_number() over (
            partition by transaction_id
            order by case when is_mapped then 0 else 1 end, seen_at, priority, code
        ) as code_rank
    from candidates
),

first_code as (
    select
        transaction_id,
        code_type || ':' || code as intent_code_id,
        case when is_mapped then intent else 'unmapped' end as intent
    from ranked
    where code_rank = 1
),

customers as (
    select * from {{ ref('int_records_customers') }}
)

select
    transactions.*,
    coalesce(
        customers.customer_key,
        {{ dbt.hash("'anonymous:' || transactions.record_type || ':' || transactions.record_id") }}
    ) as customer_key,
    coalesce(customers.is_ambiguous, false) as is_customer_ambiguous,
    first_code.intent,
    first_code.intent_code_id,
    {{ seconds_between('transactions.started_at', 'transactions.ended_at') }} as duration_seconds,
    -- The run's state (left out of int_customer_fingerprints): the newest staging load read, the newest customers
    -- read, the global inputs (macros/incremental_transactions.sql).
    {{ transactions_newest_load() }} as _newest_load_seq,
    (select max(_components_computed_at) from {{ ref('int_records_customers') }}) as _records_computed_at,
    {{ transactions_global_inputs() }} as _global_inputs
from transactions
left join customers
    on transactions.record_type = customers.record_type and transactions.record_id = customers.record_id
left join first_code on transactions.transaction_id = first_code.transaction_id
