{#- Combinations of the columns that occur more than once (NULLs equal): a composite key, without dbt_utils. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
