{#- int_survey_answers_matched incremental by answer (DECISIONS.md "int_survey_answers_matched incremental by answer
    (issue 22, survey, 4 December, tenth session)"). An answer's row depends only on
    - its own source row: the survey tool's answer, the rated conversation (and its last message), the rated ticket;
    - the transactions its contact id can name (int_interactions_sessionized): the calls whose leg it is (by root),
      the chat it is, the text thread it is, the ticket it is. Which of them is the match depends on their own
      columns only (ended_at, started_at, transaction_id, contact_id, source_id, transaction_type); the matched
      transaction's interaction_id depends on its customer's transactions (int_customer_fingerprints).
    The pre-hook deletes the stored answers a night can change: those whose source row was loaded again (a chat
    rating also when a message of its conversation moved away), those whose contact names a transaction
    int_transactions_enriched built again (a newer _newest_load_seq or _records_computed_at, other _global_inputs:
    every row a night adds, changes or moves carries them), and those matched to a customer whose fingerprint
    changed (the matched transaction changed, moved or vanished, or its interaction did). The model then builds the
    answers that have no stored row (which also repairs a run that failed between the delete and the append). -#}

{% macro survey_answers_watermarks() -%}
{#- The incremental state stored on every row: the newest load of the answers' own sources, and the state of
    int_interactions_sessionized the row was matched against. -#}
    (select max(load_seq) from (
        {%- for model in survey_answer_staging_models() %}
        {% if not loop.first %}union all {% endif -%}
        select max(_load_seq) as load_seq from {{ ref(model) }}
        {%- endfor %}
    ) as loads) as _answers_load_seq,
    (select max(_newest_load_seq) from {{ ref('int_interactions_sessionized') }}) as _transactions_load_seq,
    (select max(_records_computed_at) from {{ ref('int_interactions_sessionized') }}) as _records_computed_at,
    (select max(_global_inputs) from {{ ref('int_interactions_sessionized') }}) as _global_inputs
{%- endmacro %}

{% macro survey_answer_staging_models() -%}
    {{ return([
        'stg_phone_system__survey_answers', 'stg_chat__conversations', 'stg_chat__messages', 'stg_tickets__tickets',
    ]) }}
{%- endmacro %}

{% macro delete_survey_answers_to_rematch() -%}
{#- Pre-hook of int_survey_answers_matched: deletes the stored answers a night can change (see above). -#}
    {%- if is_incremental() %}
        {{ require_built_with('_matched_fingerprint', 'it became incremental by answer') }}
        {%- set answers_seq = '(select coalesce(max(_answers_load_seq), 0) from ' ~ this ~ ')' %}
    delete from {{ this }}
    where response_id in (
        -- Each condition on its own, so that DuckDB skips the row groups of the older loads (the rows a night
        -- builds are appended).
        with changed_transactions as (
            select transaction_type, source_id, contact_id
            from {{ ref('int_interactions_sessionized') }}
            where _newest_load_seq > (select coalesce(max(_transactions_load_seq), -1) from {{ this }})
            union all
            select transaction_type, source_id, contact_id
            from {{ ref('int_interactions_sessionized') }}
            where _records_computed_at > (
                select coalesce(max(_records_computed_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
            )
            union all
            select transaction_type, source_id, contact_id
            from {{ ref('int_interactions_sessionized') }}
            where (select max(_global_inputs) from {{ ref('int_interactions_sessionized') }})
                <> (select coalesce(max(_global_inputs), '') from {{ this }})
        ),

        -- The contact ids an answer names whose candidate transactions changed: every leg of a changed call (by its
        -- current root, and the legs whose own transactions changed: their root may have moved), the chat, the
        -- text thread, the ticket.
        changed_contacts as (
            select legs.call_id as contact_id
            from {{ ref('int_call_legs_chained') }} as legs
            where legs.root_call_id in (
                select substr(contact_id, 6) from changed_transactions where contact_id like 'call:%'
            )
            union
            select source_id from changed_transactions where transaction_type in ('ivr', 'call_leg')
            union
            select source_id
            from changed_transactions
            where transaction_type in ('chat_bot', 'chat_agent', 'sms_thread_day', 'ticket_request')
        )

        select response_id from {{ ref('stg_phone_system__survey_answers') }}
        where _load_seq > {{ answers_seq }} or contact_id in (select contact_id from changed_contacts)
        union
        select 'chat_rating:' || conversation_id from {{ ref('stg_chat__conversations') }}
        where _load_seq > {{ answers_seq }}
        union
        select 'chat_rating:' || conversation_id from {{ ref('stg_chat__messages') }}
        where _load_seq > {{ answers_seq }}
        union
        -- A re-delivered message's earlier conversation, whose last message it may have been.
        select 'chat_rating:' || earlier.conversation_id
        from {{ source('chat', 'chat_messages') }} as earlier
        where earlier._load_seq <= {{ answers_seq }} and earlier.message_id in (
            select message_id from {{ ref('stg_chat__messages') }} where _load_seq > {{ answers_seq }}
        )
        union
        select 'ticket_rating:' || ticket_id from {{ ref('stg_tickets__tickets') }}
        where _load_seq > {{ answers_seq }}
        union
        select 'chat_rating:' || contact_id from changed_contacts
        union
        select 'ticket_rating:' || contact_id from changed_contacts
    )
    or (_matched_customer_key is not null and not exists (
        select 1
        from {{ ref('int_customer_fingerprints') }} as fingerprints
        where fingerprints.customer_key = {{ this }}._matched_customer_key
            and fingerprints.input_fingerprint = {{ this }}._matched_fingerprint
    ))
    {%- endif %}
{%- endmacro %}

{% macro survey_answers_without_rows(response_id) -%}
{#- On an incremental run, only the answers that have no stored row (the pre-hook deleted those a night can change;
    a new answer has none yet). -#}
    {%- if is_incremental() %}
    where {{ response_id }} not in (select response_id from {{ this }})
    {%- endif %}
{%- endmacro %}
