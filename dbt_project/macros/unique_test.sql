{% macro duckdb__test_unique(model, column_name) -%}
{#- dbt's `unique` test on DuckDB: the values that occur more than once, as dbt's default__test_unique returns them.
    The values' 64-bit hashes are sorted first and only the rows whose hash repeats are grouped by the value: equal
    values have equal hashes, so the result is the plain group by's (a collision only adds a candidate that the
    group by drops). Grouping millions of distinct strings costs more per row the more there are (the hash table
    leaves the processor's cache); a sort of 8-byte hashes does not (DECISIONS.md "The unique test sorts hashes
    first"). -#}
with repeated_hashes as (
    {{ repeated_hashes('hash(' ~ column_name ~ ')', model, column_name ~ ' is not null') }}
)

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
    and hash({{ column_name }}) in (select value_hash from repeated_hashes)
group by {{ column_name }}
having count(*) > 1
{%- endmacro %}

{% macro repeated_hashes(hash_expression, model, condition='true') -%}
{#- The values of `hash_expression` over the rows of `model` (where `condition`) that occur more than once, as
    `value_hash`: the candidates of a uniqueness test, grouped by their value afterwards. -#}
    {{ return(adapter.dispatch('repeated_hashes')(hash_expression, model, condition)) }}
{%- endmacro %}

{% macro default__repeated_hashes(hash_expression, model, condition) -%}
    select {{ hash_expression }} as value_hash
    from {{ model }}
    where {{ condition }}
    group by 1
    having count(*) > 1
{%- endmacro %}

{% macro duckdb__repeated_hashes(hash_expression, model, condition) -%}
{#- On DuckDB the hashes are sorted, not grouped: a sort of 8-byte values keeps its cost per row where a hash table
    of millions of groups leaves the processor's cache (DECISIONS.md "The unique test sorts hashes first"). -#}
    select value_hash
    from (select {{ hash_expression }} as value_hash from {{ model }} where {{ condition }}) as hashes
    qualify value_hash = lag(value_hash) over (order by value_hash)
{%- endmacro %}
