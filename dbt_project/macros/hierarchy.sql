{#- Helpers of the customer hierarchy. Each hides SQL that differs between adapters or repeats. -#}

{% macro seconds_between(start_expression, end_expression) -%}
    {{ dbt.datediff(start_expression, end_expression, 'second') }}
{%- endmacro %}

{% macro add_minutes(timestamp_expression, minutes) -%}
    {{ dbt.dateadd('minute', minutes, timestamp_expression) }}
{%- endmacro %}

{% macro add_days(timestamp_expression, days) -%}
    {{ dbt.dateadd('day', days, timestamp_expression) }}
{%- endmacro %}

{% macro ordered_path(expression, order_by) -%}
    {#- Values joined with ' > ' in order (channel paths such as faq > ivr > voice). -#}
    {{ dbt.listagg(expression, "' > '", "order by " ~ order_by) }}
{%- endmacro %}
