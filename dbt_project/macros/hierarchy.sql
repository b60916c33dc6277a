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
    {{ ordered_listagg(expression, "' > '", order_by) }}
{%- endmacro %}

{% macro convert_to_utc(local_timestamp_expression, timezone_expression) -%}
    {#- A wall-clock time in a time zone -> the UTC timestamp (naive, like every stored timestamp). -#}
    {{ return(adapter.dispatch('convert_to_utc', 'contact_warehouse')(
        local_timestamp_expression, timezone_expression
    )) }}
{%- endmacro %}

{% macro default__convert_to_utc(local_timestamp_expression, timezone_expression) -%}
    to_utc_timestamp({{ local_timestamp_expression }}, {{ timezone_expression }})
{%- endmacro %}

{% macro duckdb__convert_to_utc(local_timestamp_expression, timezone_expression) -%}
    {#- timezone(zone, timestamp) reads the timestamp as local to the zone; the connection's TimeZone is UTC. -#}
    cast(timezone({{ timezone_expression }}, cast({{ local_timestamp_expression }} as timestamp)) as timestamp)
{%- endmacro %}

{% macro iso_weekday(date_expression) -%}
    {{ return(adapter.dispatch('iso_weekday', 'contact_warehouse')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expression) -%}
    {#- Spark's dayofweek counts from Sunday = 1. -#}
    ((dayofweek({{ date_expression }}) + 5) % 7 + 1)
{%- endmacro %}

{% macro duckdb__iso_weekday(date_expression) -%}
    isodow({{ date_expression }})
{%- endmacro %}

{% macro business_seconds(start_expression, end_expression, intervals_alias) -%}
    {#- The part of [start, end) inside one opening interval (join every interval of the schedule, then sum):
        0 when they do not overlap, and 0 when the (left) join found no interval at all: greatest() and least()
        skip NULLs on every engine, so without the case a span wholly outside opening hours counted its whole
        calendar time. -#}
    case when {{ intervals_alias }}.opens_at is null then 0 else greatest(0, {{ dbt.datediff(
        'greatest(' ~ start_expression ~ ', ' ~ intervals_alias ~ '.opens_at)',
        'least(' ~ end_expression ~ ', ' ~ intervals_alias ~ '.closes_at)',
        'second') }}) end
{%- endmacro %}
