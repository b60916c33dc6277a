{#- Rows where the expression is false: the project's own version of dbt_utils' test (no hub packages). -#}
{% test expression_is_true(model, expression, column_name=None) %}
select *
from {{ model }}
where not ({{ column_name ~ ' ' if column_name else '' }}{{ expression }})
{% endtest %}
