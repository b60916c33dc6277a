{#- Combinations of the columns that occur more than once (NULLs equal): a composite key, without dbt_utils.
    The 64-bit hashes of the combinations that repeat are found first (`repeated_hashes`, macros/unique_test.sql:
    sorted on DuckDB, grouped elsewhere), and only their rows are grouped by the columns: equal combinations have
    equal hashes, so the result is the plain group by's (DECISIONS.md "unique_combination groups a hash first",
    ninth session: 0.97 -> 0.56 s CPU on the 5M prediction rows at 120 days; "The unique test sorts hashes first",
    eleventh session). -#}
{% test unique_combination(model, columns) %}
{%- set key = columns | join(', ') %}
with repeated_hashes as (
    {{ repeated_hashes('hash(' ~ key ~ ')', model) }}
)
select {{ key }}, count(*) as occurrences
from {{ model }}
where hash({{ key }}) in (select value_hash from repeated_hashes)
group by {{ key }}
having count(*) > 1
{% endtest %}
