{#- Staging helpers: one place for each normalisation rule, dispatched per adapter where the SQL differs. -#}

{% macro deduplicate_latest(relation, key_columns) -%}
{#- Keep one row per natural key: the one from the latest load (then the last line of that file). A re-export
    that repeats rows thus wins over the original delivery (DECISIONS.md). -#}
    select * from (
        select
            deduplicated_source.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _load_seq desc, _source_line desc
            ) as _version_rank
        from {{ relation }} as deduplicated_source
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{% macro normalize_phone(column) -%}
    {{ return(adapter.dispatch('normalize_phone', 'contact_warehouse')(column)) }}
{%- endmacro %}

{% macro default__normalize_phone(column) -%}
    {#- A UDF of the same name is registered by orchestration/dbt_udfs.py (DuckDB) and must be registered
        as a Spark UDF on other adapters. -#}
    normalize_phone({{ column }}, '{{ var("phone_default_region") }}')
{%- endmacro %}

{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{% macro pii_hash(column) -%}
    {{ return(adapter.dispatch('pii_hash', 'contact_warehouse')(column)) }}
{%- endmacro %}

{% macro default__pii_hash(column) -%}
    pii_hash({{ column }})
{%- endmacro %}

{% macro has_no_letters(column) -%}
    {#- translate() exists on DuckDB and Spark alike; a regex would need a dialect per adapter. -#}
    (translate(lower({{ column }}), 'abcdefghijklmnopqrstuvwxyz', '') = lower({{ column }}))
{%- endmacro %}
