-- MetricFlow's daily time spine (the semantic layer's calendar): one row per day from 2020-01-01 to 2039-12-31.
{{ config(materialized='table', schema='semantic') }}
with days as (
    {{ dbt.generate_series(7305) }}
)

select cast({{ dbt.dateadd('day', 'generated_number - 1', "cast('2020-01-01' as date)") }} as date) as date_day
from days
