{#- Types and functions whose SQL differs between DuckDB, Spark and PostgreSQL (README "Scaling out"): each is
    one small dispatched macro, so models never spell an engine's syntax. DuckDB's SQL is unchanged by them. -#}

{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'contact_warehouse')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}

{% macro ordered_listagg(expression, delimiter, order_by) -%}
    {#- Values of a group joined with `delimiter` (a SQL string literal) in the order of `order_by` (columns
        separated by commas, ascending), NULL values left out. dbt.listagg drops the order on Spark without an
        error. -#}
    {{ return(adapter.dispatch('ordered_listagg', 'contact_warehouse')(expression, delimiter, order_by)) }}
{%- endmacro %}

{% macro default__ordered_listagg(expression, delimiter, order_by) -%}
    {{ dbt.listagg(expression, delimiter, 'order by ' ~ order_by) }}
{%- endmacro %}

{% macro spark__ordered_listagg(expression, delimiter, order_by) -%}
    {#- Structs sort field by field: sort (keys..., value) structs, keep the values (array_join skips NULLs). -#}
    {%- set fields = [] -%}
    {%- for key in order_by.split(',') -%}
        {%- do fields.append("'k" ~ loop.index ~ "', " ~ key | trim) -%}
    {%- endfor %}
    array_join(
        transform(
            array_sort(collect_list(named_struct({{ fields | join(', ') }}, 'v', {{ expression }}))),
            item -> item.v
        ),
        {{ delimiter }}
    )
{%- endmacro %}

{% macro postgres__iso_weekday(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as integer)
{%- endmacro %}

{% macro postgres__convert_to_utc(local_timestamp_expression, timezone_expression) -%}
    (cast({{ local_timestamp_expression }} as timestamp) at time zone {{ timezone_expression }} at time zone 'UTC')
{%- endmacro %}

{% macro postgres__convert_from_utc(timestamp_expression, timezone_expression) -%}
    (cast({{ timestamp_expression }} as timestamp) at time zone 'UTC' at time zone {{ timezone_expression }})
{%- endmacro %}

{% macro incremental_or_table() -%}
    {#- The materialization of the incremental models: incremental where the engine can delete and replace rows
        (DuckDB, PostgreSQL, Spark on Delta: var spark_file_format 'delta'); on Spark's plain Parquet tables, which
        only append or overwrite, a table rebuilt by every run (DECISIONS.md "Incremental models on Spark"). -#}
    {{ return('table' if target.type == 'spark' and var('spark_file_format') != 'delta' else 'incremental') }}
{%- endmacro %}
