{#- Rows whose value lies after the start of this dbt invocation: nothing in the warehouse comes from the future
    (DECISIONS.md "Values relative to the run's time are dbt tests on the large marts"). run_started_at is dbt's
    UTC start time, and every warehouse timestamp is naive UTC; NULLs pass (test not_null separately). -#}
{% test not_after_run_start(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} > cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{% endtest %}
