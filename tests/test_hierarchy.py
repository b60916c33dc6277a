"""The five-level hierarchy on a generated month: the job succeeds, levels shrink and nest, planted truths
show up at the right level, and no raw phone number or e-mail leaves staging."""

from __future__ import annotations

import re

import duckdb

LEVELS = ["fct_events", "fct_transactions", "fct_interactions", "fct_engagements", "fct_customer_journeys"]


def _count(run, table: str) -> int:
    return run.query(f"select count(*) from marts.{table}")[0][0]


def test_the_pipeline_run_succeeds(pipeline_run) -> None:
    assert pipeline_run.success


def test_counts_shrink_level_by_level(pipeline_run) -> None:
    counts = [_count(pipeline_run, t) for t in LEVELS]
    assert all(c > 0 for c in counts), dict(zip(LEVELS, counts, strict=True))
    assert counts == sorted(counts, reverse=True), dict(zip(LEVELS, counts, strict=True))
    assert counts[0] > counts[1] > counts[2] > counts[3]


def test_every_row_points_to_its_parent(pipeline_run) -> None:
    orphans = pipeline_run.query(
        """select
            (select count(*) from marts.fct_events e left join marts.fct_transactions t using (transaction_id)
             where t.transaction_id is null),
            (select count(*) from marts.fct_transactions t left join marts.fct_interactions i using (interaction_id)
             where i.interaction_id is null),
            (select count(*) from marts.fct_interactions i left join marts.fct_engagements g using (engagement_id)
             where g.engagement_id is null),
            (select count(*) from marts.fct_engagements g left join marts.fct_customer_journeys j using (customer_key)
             where j.customer_key is null)"""
    )[0]
    assert orphans == (0, 0, 0, 0)


def test_raw_loading_reconciles(pipeline_run) -> None:
    ledger = pipeline_run.query(
        "select sum(rows_read), sum(rows_loaded), sum(rows_rejected), count(*) filter (where status = 'refused') "
        "from raw._load_ledger"
    )[0]
    read, loaded, rejected, refused = ledger
    assert read == loaded + rejected and rejected > 0 and refused == 0
    assert pipeline_run.query("select count(*) from raw._quarantine")[0][0] == rejected


def test_readers_of_the_failing_article_then_call_within_the_same_engagement(pipeline_run) -> None:
    """Readers of the planted article get in touch on an assisted channel far more often than readers of other
    articles: their FAQ visit starts an engagement that goes on to voice or chat. Readers who never identify
    themselves (an unlinked cookie) stay anonymous customers and cannot be followed, so only identified readers
    count."""
    article = pipeline_run.truths["failing_faq_article"]
    rows = pipeline_run.query(
        """with reads as (
               select distinct v.transaction_id, v.detail = ? as is_failing_article
               from marts.fct_events v where v.event_type = 'faq_view'
           )
           select is_failing_article,
                  count(*) as readers,
                  count(*) filter (where g.first_channel = 'faq'
                                   and (g.channel_path like '%voice%' or g.channel_path like '%chat%'))
           from reads
           join marts.fct_transactions t using (transaction_id)
           join marts.fct_interactions i using (interaction_id)
           join marts.fct_engagements g using (engagement_id)
           join marts.dim_customers d on g.customer_key = d.customer_key
           where not d.is_anonymous
           group by is_failing_article""",
        [article],
    )
    share = {failing: assisted / readers for failing, readers, assisted in rows}
    assert share[True] >= 0.4, rows
    assert share[True] >= 2 * share[False], rows


def test_the_switchboard_number_does_not_merge_customers(pipeline_run) -> None:
    refs = pipeline_run.truths["switchboard_customers"]
    keys = pipeline_run.query(
        f"select count(distinct customer_key), count(*) from marts.dim_customers "
        f"where customer_ref in ({', '.join('?' * len(refs))})",
        refs,
    )[0]
    assert keys == (len(refs), len(refs))
    assert (
        pipeline_run.query("select count(*) from intermediate.int_identifiers_classified where is_blocked")[0][0] >= 1
    )


def test_no_raw_phone_number_or_email_outside_staging(pipeline_run) -> None:
    raw_values = {
        v
        for (v,) in pipeline_run.query(
            """select distinct v from (
                   select from_number_raw as v from staging.stg_phone_system__calls
                   union all select from_phone from staging.stg_phone_system__calls
                   union all select phone_raw from staging.stg_crm__customers
                   union all select phone from staging.stg_crm__customers
                   union all select email from staging.stg_crm__customers
                   union all select visitor_email from staging.stg_chat__conversations
                   union all select email from staging.stg_forms__submissions
                   union all select respondent_raw from staging.stg_phone_system__survey_answers
               ) where v is not null and (v like '%@%' or length(regexp_replace(v, '[^0-9]', '', 'g')) >= 10)"""
        )
    }
    assert raw_values
    email = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
    columns = pipeline_run.query(
        """select table_schema, table_name, column_name from information_schema.columns
           where table_schema not in ('raw', 'staging', 'main', 'information_schema', 'pg_catalog')
             and data_type = 'VARCHAR'"""
    )
    assert columns
    leaks = []
    # One connection for the ~460 columns: opening the warehouse file once per column cost a minute.
    with duckdb.connect(str(pipeline_run.db), read_only=True) as con:
        for schema, table, column in columns:
            values = {v for (v,) in con.execute(f'select distinct "{column}" from {schema}.{table}').fetchall() if v}
            found = (values & raw_values) | {v for v in values if email.search(v)}
            if found:
                leaks.append((schema, table, column, sorted(found)[:3]))
    assert leaks == []
