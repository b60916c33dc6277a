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
