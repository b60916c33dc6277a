{#- One row when the model has none: a table that must not be empty (an empty fact table means a wrong landing
    folder or a broken join upstream, and would publish an empty cockpit). -#}
{% test not_empty(model) %}
select count(*) as row_count
from {{ model }}
having count(*) = 0
{% endtest %}
