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

{% macro latest_delivery_children(relation, parent_relation, parent_key) -%}
{#- The elements of a JSON export's nested list (a ticket's tags or status changes, a conversation's tags): child
    rows of the latest delivery of the parent win, all of them and only them. Keeping the latest row per element
    key instead would keep a re-delivered ticket's old extra tags when the new delivery has fewer. A record's
    elements carry its load and line, so they are matched to the parent's latest delivery as deduplicate_latest
    picks it. In an incremental model (unique_key: the parent key) only parents of new loads are read, and
    drop_redelivered_children (pre_hook) removes the elements of their earlier deliveries first. -#}
    select children.*
    from (
        select * from {{ relation }}
        {{ new_loads_only() }}
    ) as children
    inner join (
        {{ deduplicate_latest(parent_relation, [parent_key]) }}
    ) as latest_parent
        on
            children.{{ parent_key }} = latest_parent.{{ parent_key }}
            and children._load_seq = latest_parent._load_seq
            and children._source_line = latest_parent._source_line
{%- endmacro %}

{% macro drop_redelivered_children(parent_relation, parent_key) -%}
{#- Pre-hook of an incremental model built with latest_delivery_children: deletes the elements of every parent
    delivered again in a load the model has not read yet, so that a delivery with fewer elements, or none, leaves
    no old ones behind (a delete+insert on the parent key alone misses a parent whose new delivery has none). -#}
    {%- if is_incremental() %}
        delete from {{ this }} where {{ parent_key }} in (
            select {{ parent_key }} from {{ parent_relation }}
            where _load_seq > (select coalesce(max(_load_seq), 0) from {{ this }})
        )
    {%- endif %}
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
