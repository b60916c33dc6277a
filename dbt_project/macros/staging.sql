{#- Staging helpers: one place for each normalisation rule, dispatched per adapter where the SQL differs. -#}

{% macro deduplicate_latest(relation, key_columns) -%}
{#- Keep one row per natural key: the one from the latest load (then the last line of that file). A re-export
    that repeats rows thus wins over the original delivery (DECISIONS.md). In an incremental model, only the
    rows of new loads are read. -#}
    select * from (
        select
            deduplicated_source.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _load_seq desc, _source_line desc
            ) as _version_rank
        from {{ relation }} as deduplicated_source
        {{ new_loads_only() }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{% macro new_loads_only() -%}
{#- On an incremental run, only the rows of loads after the newest load already in the model. Every row in the
    model comes from a load at or before that watermark, so a newer row is the latest version of its key and
    replaces the old one (delete+insert on the natural key, DECISIONS.md "Incremental staging"). A load whose
    rows were all replaced or filtered out leaves the watermark lower: its rows are read again, which changes
    nothing. -#}
    {%- if is_incremental() %}
        where _load_seq > (select coalesce(max(_load_seq), 0) from {{ this }})
    {%- endif %}
{%- endmacro %}

{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{% macro has_no_letters(column) -%}
    {#- translate() exists on DuckDB and Spark alike; a regex would need a dialect per adapter. -#}
    (translate(lower({{ column }}), 'abcdefghijklmnopqrstuvwxyz', '') = lower({{ column }}))
{%- endmacro %}
