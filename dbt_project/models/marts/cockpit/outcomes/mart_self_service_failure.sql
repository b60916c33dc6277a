-- Self-service failure per period, kind of use and intent: self-service uses (FAQ visit, bot-only chat,
-- contained IVR) followed by an assisted contact of the same customer on the same intent within
-- var('deflection_window_hours') / self-service uses with a known intent (docs/domain.md section 5).
with daily as (
    select
        {{ reporting_date('started_at') }} as activity_date,
        use_type,
        intent,
        count(*) as self_service_uses,
        sum(case when is_failed then 1 else 0 end) as failed_self_service_uses
    from {{ ref('int_self_service_uses') }}
    where is_intent_known
    group by 1, 2, 3
),

rolled_up as (
    {{ period_rollup(
        'daily', ['use_type', 'intent'], ['self_service_uses', 'failed_self_service_uses'], with_total=true
    ) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || use_type
            || '|' || intent") }}
        as self_service_failure_key,
    rolled_up.*,
    -- The semantic layer's metric (macro metric_sql), not a formula of its own.
    {{ metric_sql('self_service_failure_rate') }} as self_service_failure_rate
from rolled_up
