{#- int_message_sentiment incremental by text, judged by customer (DECISIONS.md "int_message_sentiment incremental
    by text, judged by customer (issue 22, sentiment, 5 December, twelfth session)"). A text's row depends on its
    own staging row (score, author, time, a comment's channel) and on where it belongs: a chat or text message on
    its event's transaction in fct_events and that transaction's interaction and customer in fct_transactions, a
    survey comment on its answer's row in fct_survey_answers. All of these are the customer's: they change only
    when int_engagement_fingerprints changes for the customer the row names (its transactions, settings included,
    and the survey answers matched to its engagements, every column of them), or for the customer it moves to.
    Each row stores that customer's fingerprint in _input_fingerprint, or NULL when the row depends on something
    no fingerprint holds (a text without transaction or customer, a comment whose answer is matched to no
    engagement). The pre-hook deletes the rows whose customer's fingerprint changed or vanished (a merge), the rows
    without a fingerprint, and the texts whose staging row was loaded after the newest one the model read; the
    model then builds every text left without a row. -#}

{% macro sentiment_fingerprint(fingerprint) -%}
{#- The customer's int_engagement_fingerprints.input_fingerprint as int_message_sentiment stores it. -#}
    {{ return(adapter.dispatch('sentiment_fingerprint', 'contact_warehouse')(fingerprint)) }}
{%- endmacro %}

{% macro default__sentiment_fingerprint(fingerprint) -%}
    {{ fingerprint }}
{%- endmacro %}

{% macro duckdb__sentiment_fingerprint(fingerprint) -%}
    {#- Its 64-bit hash as text (the pre-hook reads the column of every row: a short value), text on every engine. -#}
    cast(hash({{ fingerprint }}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro sentiment_text_sources() -%}
{#- Each source of int_message_sentiment's texts: its staging relation, the texts' source_type and their text_id. -#}
    {{ return([
        {'relation': ref('stg_chat__messages'), 'source_type': 'chat_message', 'text_id': "'chat:' || message_id"},
        {'relation': ref('stg_phone_system__sms_messages'), 'source_type': 'sms', 'text_id': "'sms:' || message_id"},
        {'relation': ref('stg_phone_system__survey_answers'), 'source_type': 'survey_comment',
         'text_id': "'survey:' || response_id"},
    ]) }}
{%- endmacro %}

{% macro delete_changed_sentiment_texts() -%}
{#- int_message_sentiment's pre-hook (one statement). -#}
    {%- if is_incremental() %}
        {{ require_built_with('_input_fingerprint', 'it became incremental') }}
    delete from {{ this }}
    where _input_fingerprint is null
        or customer_key in (
            {{ customers_with_stale_fingerprint(
                'int_engagement_fingerprints', sentiment_fingerprint('fingerprints.input_fingerprint')
            ) }}
        )
        or text_id in (
            {%- for source in sentiment_text_sources() %}
            select {{ source.text_id }}
            from {{ source.relation }}
            where _load_seq > (
                select coalesce(max(_load_seq), 0) from {{ this }} where source_type = '{{ source.source_type }}'
            )
            {{- '\n            union all' if not loop.last }}
            {%- endfor %}
        )
    {%- endif %}
{%- endmacro %}
