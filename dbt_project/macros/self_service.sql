{#- The self-service failure rule (docs/domain.md section 5), written once for every kind of use. -#}

{% macro assisted_contacts_after(uses, use_key, ended_at) -%}
    {#- For each row of the relation `uses` (with customer_key and intent) that an assisted contact followed: the
        first such contact's start and how many there were (use_key, first_assisted_at, assisted_contacts). A
        contact follows a use when the same customer started it (a one-time code, a reminder or a callback is the
        company's message, not the customer needing help), it is assisted, on the same known intent (without one
        there is no "same problem" to fail on), starting at or after the use's `ended_at` and within
        var('deflection_window_hours') of it. Intents: each transaction's effective intent (DECISIONS.md). -#}
    select
        {{ uses }}.{{ use_key }},
        min(assisted.started_at) as first_assisted_at,
        count(*) as assisted_contacts
    from {{ uses }}
    inner join {{ ref('fct_transactions') }} as assisted
        on {{ uses }}.customer_key = assisted.customer_key
        and {{ uses }}.intent = assisted.effective_intent
        and {{ uses }}.intent not in ('unknown', 'unmapped')
        and assisted.is_assisted
        and assisted.is_customer_initiated
        and assisted.started_at >= {{ uses }}.{{ ended_at }}
        and assisted.started_at < {{ dbt.dateadd('hour', var('deflection_window_hours'), uses ~ '.' ~ ended_at) }}
    group by {{ uses }}.{{ use_key }}
{%- endmacro %}
