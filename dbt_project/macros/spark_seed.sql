{#- dbt-spark 1.11's session mode pastes seed values into the SQL between quotes without escaping them, so a
    seed text with an apostrophe ("New Year's Day") fails to parse. The same loading as dbt-spark's own
    spark__load_csv_rows, with quotes and backslashes of text values escaped in session mode (Thrift, ODBC and
    Databricks bind them themselves). target.method is not in dbt's target context: the spark target of
    profiles.yml names its host 'session' in session mode. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {% set batch_size = get_batch_size() %}
  {% set column_override = model['config'].get('column_types', {}) %}
  {% set statements = [] %}
  {% for chunk in agate_table.rows | batch(batch_size) %}
      {% set bindings = [] %}
      {% for row in chunk %}
          {% for value in row %}
              {% if value is string and target.host == 'session' %}
                  {% do bindings.append(value | replace('\\', '\\\\') | replace("'", "\\'")) %}
              {% else %}
                  {% do bindings.append(value) %}
              {% endif %}
          {% endfor %}
      {% endfor %}
      {% set sql %}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for col_name in agate_table.column_names -%}
                  {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                  {%- set type = column_override.get(col_name, inferred_type) -%}
                    cast({{ get_binding_char() }} as {{type}})
                  {%- if not loop.last%},{%- endif %}
              {%- endfor -%})
              {%- if not loop.last%},{%- endif %}
          {%- endfor %}
      {% endset %}
      {% do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) %}
      {% if loop.index0 == 0 %}
          {% do statements.append(sql) %}
      {% endif %}
  {% endfor %}
  {{ return(statements[0]) }}
{% endmacro %}
