-- Every article read in a FAQ visit, with the article's own intent, and whether the reader then needed an
-- assisted contact on that intent within var('deflection_window_hours'): self-service failure per article.
with views as (
    select * from {{ ref('int_faq_visits_sessionized') }}
),

visits as (
    select transaction_id, source_id as visit_id, customer_key, ended_at
    from {{ ref('fct_transactions') }}
    where transaction_type = 'faq_visit'
),

article_intents as (
    select code as article_code, intent
    from {{ ref('int_intent_codes') }}
    where code_type = 'faq_article'
),

reads as (
    select
        visits.transaction_id || ':' || views.article_id as article_read_id,
        visits.transaction_id as use_id,
        views.article_id,
        visits.customer_key,
        coalesce(article_intents.intent, 'unmapped') as intent,
        min(views.viewed_at) as first_viewed_at,
        max(visits.ended_at) as visit_ended_at,
        count(*) as views_count,
        max(case when views.vote = 'up' then 1 else 0 end) = 1 as is_voted_up,
        max(case when views.vote = 'down' then 1 else 0 end) = 1 as is_voted_down
    from views
    inner join visits on views.visit_id = visits.visit_id
    left join article_intents on lower(views.article_id) = article_intents.article_code
    group by visits.transaction_id, views.article_id, visits.customer_key, article_intents.intent
),

-- The same rule as for every self-service use, after the visit ended.
followed as (
    {{ assisted_contacts_after('reads', 'article_read_id', 'visit_ended_at') }}
)

select
    reads.*,
    followed.first_assisted_at,
    followed.article_read_id is not null as is_failed
from reads
left join followed on reads.article_read_id = followed.article_read_id
