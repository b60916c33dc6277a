-- Cross-channel duplicates per period and intent: form submissions followed by a chat or a call of the same
-- customer on the same intent within var('duplicate_window_hours') (48) / form submissions.
with transactions as (
    select * from {{ ref('fct_transactions') }}
),

forms as (
    select * from transactions where transaction_type = 'form'
),

followups as (
    select * from transactions where channel in ('chat', 'ivr', 'voice')
),

duplicated as (
    select forms.transaction_id
    from forms
    inner join followups
        on forms.customer_key = followups.customer_key
        and forms.effective_intent = followups.effective_intent
        and forms.effective_intent not in ('unknown', 'unmapped')
        and followups.started_at > forms.started_at
        and followups.started_at < {{ dbt.dateadd('hour', var('duplicate_window_hours'), 'forms.started_at') }}
    group by forms.transaction_id
),

daily as (
    select
        {{ reporting_date('forms.started_at') }} as activity_date,
        forms.effective_intent as intent,
        count(*) as form_submissions,
        count(duplicated.transaction_id) as duplicated_submissions
    from forms
    left join duplicated on forms.transaction_id = duplicated.transaction_id
    group by 1, 2
),

rolled_up as (
    {{ period_rollup('daily', ['intent'], ['form_submissions', 'duplicated_submissions']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as varchar) || '|' || intent") }} as duplicates_key,
    rolled_up.*,
    {{ safe_ratio('duplicated_submissions', 'form_submissions') }} as cross_channel_duplicate_rate
from rolled_up
