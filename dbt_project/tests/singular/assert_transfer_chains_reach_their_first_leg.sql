-- Every call leg's root_call_id is a first leg: its parent is not among the legs. A failure means a transfer
-- chain is longer than var('max_transfer_depth') and its call was split into two contacts: raise the var (or the
-- export has a loop of parent_call_id).
select
    chained.call_id,
    chained.root_call_id,
    roots.parent_call_id as root_parent_call_id
from {{ ref('int_call_legs_chained') }} as chained
inner join {{ ref('int_call_legs_chained') }} as roots
    on chained.root_call_id = roots.call_id
inner join {{ ref('int_call_legs_chained') }} as parents
    on roots.parent_call_id = parents.call_id
