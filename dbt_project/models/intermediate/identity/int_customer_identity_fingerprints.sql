-- One row per customer of the identity records: a hash of its rows of int_records_customers (every column: its
-- records, and when each record's components were last computed). dim_customer_identifiers is incremental by
-- customer on it (DECISIONS.md "dim_customer_identifiers incremental by customer"): a customer's identifiers
-- change only through its records or their components, and int_records_customers rebuilds every record whose
-- component identity computed again (its identifiers, records or blocking changed), with a new
-- _components_computed_at.
select
    customer_key,
    {{ fingerprint_agg(row_fingerprint(ref('int_records_customers'))) }} as input_fingerprint
from {{ ref('int_records_customers') }}
group by customer_key
