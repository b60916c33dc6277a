{#- mart_ivr_calls incremental by customer (DECISIONS.md "mart_ivr_calls incremental by customer (issue 22, ivr, 4
    December, tenth session)"). A call's row depends on its own IVR events, its IVR transaction in fct_transactions
    (customer, outcome, intent) and its customer's assisted transactions (true containment): all but the events are
    the customer's transactions, which fct_transactions rebuilds when int_customer_fingerprints changes. The pre-hook
    deletes every row of the customers whose fingerprint changed (or vanished in a merge) and of the customers whose
    calls have IVR events of a load after the newest one the model read (a corrected node changes the path without
    the transaction); the model then builds the IVR calls of the customers left without rows. -#}

{% macro ivr_calls_fingerprint(fingerprint) -%}
{#- The customer's fingerprint as mart_ivr_calls stores it, with the setting it reads besides the transactions. -#}
    {{ dbt.concat(["'deflection_window_hours=" ~ var('deflection_window_hours') ~ ":'", fingerprint]) }}
{%- endmacro %}

{% macro delete_changed_ivr_call_customers() -%}
    {%- if is_incremental() %}
        {{ require_built_with('_load_seq', 'it became incremental by customer') }}
    delete from {{ this }}
    where customer_key in (
        {{ customers_with_stale_fingerprint(
            'int_customer_fingerprints', ivr_calls_fingerprint('fingerprints.input_fingerprint')
        ) }}
        union
        select customer_key
        from {{ this }}
        where call_id in (
            select call_id from {{ ref('stg_phone_system__ivr_events') }}
            where _load_seq > (select coalesce(max(_load_seq), 0) from {{ this }})
        )
    )
    {%- endif %}
{%- endmacro %}

{#- int_ivr_node_visits incremental by call (DECISIONS.md "int_ivr_node_visits incremental by call"). Each row keeps
    the newest load of its call's IVR events (_load_seq); a night rebuilds the calls with events of a later load than
    the newest the model holds. The pre-hook deletes them first, so the watermark the model then reads can only be
    lower: the calls it adds by that are calls without any row, i.e. without a menu visit, which give no row again. -#}

{% macro ivr_calls_with_new_events() -%}
    select call_id from {{ ref('stg_phone_system__ivr_events') }}
    where _load_seq > (select coalesce(max(_load_seq), 0) from {{ this }})
{%- endmacro %}

{% macro delete_ivr_calls_with_new_events() -%}
    {%- if is_incremental() %}
        {{ require_built_with('_load_seq', 'it became incremental by call') }}
    delete from {{ this }}
    where call_id in ({{ ivr_calls_with_new_events() }})
    {%- endif %}
{%- endmacro %}
