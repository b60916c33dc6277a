-- Customer segments (docs/domain.md section 5) with their size: frequent contacter (>= 3 interactions within 30
-- days), high value (CRM tier), at risk (latest NPS a detractor, or an engagement left unresolved past its
-- window). A customer can be in several segments; `segment` on fct_customer_journeys is the first that applies.
with journeys as (
    select * from {{ ref('fct_customer_journeys') }}
),

flags as (
    select customer_key, 'frequent_contacter' as segment from journeys where is_frequent_contacter
    union all
    select customer_key, 'high_value' from journeys where is_high_value
    union all
    select customer_key, 'at_risk' from journeys where is_at_risk
),

segments as (
    select 'frequent_contacter' as segment
    union all select 'high_value'
    union all select 'at_risk'
),

totals as (
    select count(*) as customers_with_contacts from journeys
)

select
    segments.segment,
    count(flags.customer_key) as customers,
    max(totals.customers_with_contacts) as customers_with_contacts,
    {{ safe_ratio('count(flags.customer_key)', 'max(totals.customers_with_contacts)') }} as share_of_customers
from segments
cross join totals
left join flags on segments.segment = flags.segment
group by segments.segment
