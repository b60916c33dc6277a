-- The schedule of every queue and ticket group seen in the data: its assignment, else `default`.
with queues as (
    select distinct queue from {{ ref('stg_phone_system__calls') }} where queue is not null
    union
    select distinct group_name from {{ ref('stg_tickets__tickets') }} where group_name is not null
)

select
    queues.queue,
    coalesce(assignments.schedule, 'default') as schedule
from queues
left join {{ ref('business_hours_assignments') }} as assignments on queues.queue = assignments.queue
