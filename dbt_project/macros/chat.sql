{#- Chat conversations' shared building blocks. -#}

{% macro chat_last_messages(conversations=none) -%}
    {#- One row per conversation with messages: the time of its last message (conversation_id, last_message_at).
        Used where a conversation's export has no close time: a chat ends at its last message. `conversations`, a
        query of conversation ids, restricts it to those. -#}
    select conversation_id, max(sent_at) as last_message_at
    from {{ ref('stg_chat__messages') }}
    {%- if conversations %}
    where conversation_id in ({{ conversations }})
    {%- endif %}
    group by conversation_id
{%- endmacro %}
