{#- fct_events incremental by customer (DECISIONS.md "fct_events incremental by customer, each source read for the
    rebuilt transactions"). A customer's events are rebuilt when its int_engagement_fingerprints changed (any of its
    transactions, or a survey answer matched to its contacts), or when a staging row of one of its events arrived
    after the newest one fct_events has read from that source: an event can change without its transaction (a
    corrected IVR node, a text's delivery status) or move to another transaction (a text corrected to another
    thread). The watermark of each source is the highest _load_seq among its rows in fct_events, as staging's
    new_loads_only (survey answers have none: their changes are in the fingerprint); the state lives in the model's
    own table, so a run that fails is repaired by the next. -#}

{% macro event_sources() -%}
{#- Each source of fct_events: the staging relation whose rows carry _load_seq, the fct_events rows it gives (their
    watermark), what a new row names as its transactions (type and source_id in fct_transactions) and, for the
    events that can move to another transaction, the event_id the row had (its earlier customer is found there). -#}
    {{ return([
        {'name': 'ivr', 'relation': ref('stg_phone_system__ivr_events'), 'rows': "channel = 'ivr'",
         'transactions': [("'ivr'", 'call_id')], 'event_id': none},
        {'name': 'calls', 'relation': ref('stg_phone_system__calls'), 'rows': "channel = 'voice'",
         'transactions': [("'ivr'", 'call_id'), ("'call_leg'", 'call_id')], 'event_id': none},
        {'name': 'sms', 'relation': ref('stg_phone_system__sms_messages'), 'rows': "channel = 'sms'",
         'transactions': [("'sms_thread_day'", 'thread_id')], 'event_id': "'sms:' || message_id"},
        {'name': 'chat', 'relation': ref('stg_chat__messages'), 'rows': "channel = 'chat'",
         'transactions': [("'chat_bot'", 'conversation_id'), ("'chat_agent'", 'conversation_id')],
         'event_id': "'chat:' || message_id"},
        {'name': 'faq', 'relation': ref('int_faq_visits_sessionized'), 'rows': "channel = 'faq'",
         'transactions': [("'faq_visit'", 'visit_id')], 'event_id': "'faq:' || view_id"},
        {'name': 'forms', 'relation': ref('stg_forms__submissions'), 'rows': "channel = 'form'",
         'transactions': [("'form'", 'response_id')], 'event_id': none},
        {'name': 'ticket_messages', 'relation': ref('int_ticket_messages_sequenced'),
         'rows': "channel = 'email' and event_type <> 'ticket_status_change'",
         'transactions': [("'ticket_request'", 'ticket_id')], 'event_id': "'ticket_message:' || message_id"},
        {'name': 'ticket_status', 'relation': ref('stg_tickets__status_changes'),
         'rows': "event_type = 'ticket_status_change'",
         'transactions': [("'ticket_request'", 'ticket_id')], 'event_id': none},
    ]) }}
{%- endmacro %}

{% macro delete_changed_event_customers() -%}
{#- fct_events' pre-hook: deletes every row of the customers whose events must be rebuilt (the model then builds
    them and the customers without rows, event_customers_to_rebuild): a fingerprint that is no longer the customer's,
    the current customers of the transactions that new staging rows name, and the customers an event of a new row
    belonged to. The customers fct_events holds, with their fingerprints, are read from its built_customers (a row a
    customer, written by its post-hooks), not grouped from its events: grouping every event by customer was the part
    of the night that grows with the history, and beyond the processor's cache faster than the history (DECISIONS.md
    "fct_events groups its events by customer once a night", "The customers a model holds, kept beside it"). -#}
    {%- if is_incremental() %}
        {{ require_built_with('_load_seq', 'it became incremental by customer') }}
        {{ require_built_customers('int_engagement_fingerprints') }}
        {%- set tables = event_customer_tables() %}
    drop table if exists {{ tables.deleted }};
    create temporary table {{ tables.deleted }} as
    with watermarks as (
        -- Each source's newest load among the rows it gave fct_events (one scan for all of them).
        select
        {%- for source in event_sources() %}
            coalesce(max(case when {{ source.rows }} then _load_seq end), 0) as {{ source.name }}
            {{- ',' if not loop.last }}
        {%- endfor %}
        from {{ this }}
    )

    {{ stale_built_customers('int_engagement_fingerprints') }}
    union
    select transactions.customer_key
    from {{ ref('fct_transactions') }} as transactions
    inner join ({{ transactions_of_new_event_rows() }}) as named
        on transactions.transaction_type = named.transaction_type and transactions.source_id = named.source_id
    union
    select customer_key
    from {{ this }}
    where event_id in ({{ event_ids_of_new_event_rows() }});
    delete from {{ this }}
    where customer_key in (select customer_key from {{ tables.deleted }})
    {%- endif %}
{%- endmacro %}

{% macro event_customer_tables() -%}
{#- The pre-hook's temporary table, which lives until the model's post-hook drops it: `deleted`, the customers the
    pre-hook deleted. -#}
    {{ return({'deleted': 'fct_events__deleted_customers'}) }}
{%- endmacro %}

{% macro event_customers_to_rebuild(customer_column) -%}
{#- fct_events' filter on its transactions on an incremental run: the customers of int_engagement_fingerprints left
    without rows by the pre-hook, i.e. those it deleted (its temporary table) and those fct_events did not hold (new
    ones, not in its built_customers). -#}
    {%- do ref('int_engagement_fingerprints') -%}
    {%- if is_incremental() %}
        {%- set tables = event_customer_tables() %}
    where {{ customer_column }} in (
        select customer_key from {{ tables.deleted }}
        union all
        select fingerprints.customer_key
        from {{ ref('int_engagement_fingerprints') }} as fingerprints
        left join {{ built_customers('int_engagement_fingerprints') }} as built
            on fingerprints.customer_key = built.customer_key
        where built.customer_key is null
    )
    {%- endif %}
{%- endmacro %}

{% macro drop_event_customer_tables() -%}
{#- fct_events' first post-hook (then forget_stale_customers and record_rebuilt_customers): the pre-hook's temporary
    table goes with the model's transaction. Only where the pre-hook made it (an incremental run): on an engine where
    fct_events is a table (Spark) there is nothing to drop, and Spark runs one statement per hook. -#}
    {%- if is_incremental() %}
        {%- set tables = event_customer_tables() %}
    drop table if exists {{ tables.deleted }}
    {%- endif %}
{%- endmacro %}

{% macro new_event_rows(source) -%}
    {#- The rows of a source's loads after the newest one its events in fct_events come from (the pre-hook's
        watermarks). -#}
    {{ source.relation }} where _load_seq > (select {{ source.name }} from watermarks)
{%- endmacro %}

{% macro transactions_of_new_event_rows() -%}
    {#- The transactions (type, source_id) that the sources' new rows name. -#}
    {%- set selects = [] -%}
    {%- for source in event_sources() -%}
        {%- for transaction_type, source_id in source.transactions -%}
            {%- do selects.append('select ' ~ transaction_type ~ ' as transaction_type, ' ~ source_id
                ~ ' as source_id from ' ~ new_event_rows(source)) -%}
        {%- endfor -%}
    {%- endfor %}
        {{ selects | join('\n        union all ') }}
{%- endmacro %}

{% macro event_ids_of_new_event_rows() -%}
    {#- The event_id each new row had, for the sources whose events can move to another transaction. -#}
    {%- set selects = [] -%}
    {%- for source in event_sources() if source.event_id -%}
        {%- do selects.append('select ' ~ source.event_id ~ ' from ' ~ new_event_rows(source)) -%}
    {%- endfor %}
        {{ selects | join('\n        union all ') }}
{%- endmacro %}

{% macro event_fingerprint(fingerprint) -%}
{#- The customer's fingerprint as fct_events stores it on every event row. -#}
    {{ return(adapter.dispatch('event_fingerprint', 'contact_warehouse')(fingerprint)) }}
{%- endmacro %}

{% macro default__event_fingerprint(fingerprint) -%}
    {{ fingerprint }}
{%- endmacro %}

{% macro duckdb__event_fingerprint(fingerprint) -%}
    {#- Its 64-bit hash as text: the nightly run reads this column of every event (the distinct customers and
        fingerprints), and a short value costs less than the 83-character text at 1.3 million events (a number: 0.11 s
        against 0.34 s). Text, not a number, so that the column has one type on every engine: a mart built on
        PostgreSQL or Spark is copied into a DuckDB table typed like DuckDB's own build (tests/test_engines_*.py). -#}
    cast(hash({{ fingerprint }}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro only_rebuilt(column, transaction_types) -%}
{#- On an incremental run, a source's rows restricted to those of the rebuilt customers' transactions (the
    `transactions` CTE of fct_events): every event of a call, chat, text thread or ticket belongs to a transaction of
    the same record, hence of the same customer. -#}
    {%- if is_incremental() %}
    where {{ column }} in (
        select source_id from transactions where transaction_type in ('{{ transaction_types | join("', '") }}')
    )
    {%- endif %}
{%- endmacro %}
