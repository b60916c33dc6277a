{#- Rows whose raw phone value could not be normalised to E.164. Used with severity warn: an unparseable
    number becomes NULL and is counted, it never fails the build. -#}
{% test phone_normalized(model, column_name, raw_column) %}
select {{ raw_column }} as raw_value, {{ column_name }} as normalized_value
from {{ model }}
where nullif(trim({{ raw_column }}), '') is not null
  and {{ column_name }} is null
{% endtest %}
