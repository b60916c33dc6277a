-- Self-service failure per FAQ article: reads of the article (once per visit) followed by an assisted contact
-- of the reader on the article's intent within var('deflection_window_hours') / reads. Ranked within each
-- period, worst first: the articles to rewrite.
with daily as (
    select
        {{ reporting_date('first_viewed_at') }} as activity_date,
        article_id,
        intent,
        count(*) as article_reads,
        sum(case when is_failed then 1 else 0 end) as failed_reads,
        sum(case when is_voted_up then 1 else 0 end) as votes_up,
        sum(case when is_voted_down then 1 else 0 end) as votes_down
    from {{ ref('int_faq_article_reads') }}
    where intent <> 'unmapped'
    group by 1, 2, 3
),

rolled_up as (
    {{ period_rollup('daily', ['article_id', 'intent'], ['article_reads', 'failed_reads', 'votes_up', 'votes_down'],
        with_total=true) }}
),

rated as (
    select
        rolled_up.*,
        {{ metric_sql('self_service_failure_rate',
                      columns={'failed_self_service_uses': 'failed_reads', 'self_service_uses': 'article_reads'}) }}
            as self_service_failure_rate
    from rolled_up
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|' || rated.article_id") }}
        as article_failure_key,
    rated.*,
    articles.title,
    articles.section,
    rank() over (
        partition by rated.period_grain, rated.period_start
        order by rated.self_service_failure_rate desc, rated.article_reads desc
    ) as failure_rank
from rated
left join {{ ref('stg_help_center__faq_articles') }} as articles on rated.article_id = articles.article_id
