{% macro duckdb__test_unique(model, column_name) -%}
{#- dbt's `unique` test on DuckDB: the values that occur more than once, as dbt's default__test_unique returns them.
    The values' 64-bit hashes are sorted first and only the rows whose hash repeats are grouped by the value: equal
    values have equal hashes, so the result is the plain group by's (a collision only adds a candidate that the
    group by drops). Grouping millions of distinct strings costs more per row the more there are (the hash table
    leaves the processor's cache); a sort of 8-byte hashes does not (DECISIONS.md "The unique test sorts hashes
    first"). -#}
with repeated_hashes as (
    select value_hash
    from (select hash({{ column_name }}) as value_hash from {{ model }} where {{ column_name }} is not null) as hashes
    qualify value_hash = lag(value_hash) over (order by value_hash)
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
