-- Every queue's service-level target, maximum occupancy and shrinkage: its row of the analysts' reference data
-- (knowledge_base/queue_service_levels.csv), each blank field, and every queue missing there, falling back to the
-- project-wide vars (service_level_target, service_level_seconds, staffing_max_occupancy, staffing_shrinkage).
with queues as (
    select distinct queue from {{ ref('int_call_legs_chained') }} where queue is not null
    union
    select queue from {{ ref('queue_service_levels') }}
),

configured as (
    select
        lower(trim(queue)) as queue_key,
        service_level_target,
        service_level_seconds,
        max_occupancy,
        shrinkage
    from {{ ref('queue_service_levels') }}
)

select
    queues.queue,
    cast(coalesce(configured.service_level_target, {{ var('service_level_target') }}) as {{ type_double() }})
        as service_level_target,
    cast(coalesce(configured.service_level_seconds, {{ var('service_level_seconds') }}) as integer)
        as service_level_seconds,
    cast(coalesce(configured.max_occupancy, {{ var('staffing_max_occupancy') }}) as {{ type_double() }})
        as max_occupancy,
    cast(coalesce(configured.shrinkage, {{ var('staffing_shrinkage') }}) as {{ type_double() }}) as shrinkage,
    configured.queue_key is not null as is_configured
from queues
left join configured on lower(trim(queues.queue)) = configured.queue_key
