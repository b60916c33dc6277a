-- mart_transfers' day rows, the grain of the semantic model transfer_day: MetricFlow re-sums them for any period and
-- slice (queue, intent). A call counts in the queue of its first leg (mart_transfers' first_queue), once, however many
-- queues and agents its transfers passed through: the transfer rate has no agent slice (docs/semantic_layer.md; an
-- agent's own transfers are transfer_out_rate). The mart's columns carry the measures' names, so the metric compiles
-- the same over the mart, this view and mart_cockpit_daily. A view in the `semantic`
-- schema, not published: it adds no figure of its own.
{{ config(materialized='view', schema='semantic') }}

select
    transfers_key,
    period_start as activity_date,
    'voice' as channel,
    queue,
    intent,
    transfer_answered_calls,
    transferred_calls
from {{ ref('mart_transfers') }}
where period_grain = 'day'
