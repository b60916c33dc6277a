"""int_transactions_enriched incremental by unit, as plain SQL on a benchmark night (DECISIONS.md
"int_transactions_enriched incremental (issue 22, enriched2, 4 December, eighth session)"): the design measured
before the model was written (macros/incremental_transactions.sql), kept to measure it again outside dbt. Here the
parent a re-delivered row had comes from the previous build's staging; the model reads the raw table's earlier
version (benchmarks/enriched_units_raw.py measures that lookup).

(1) The units a night can change: calls by root leg, chats by conversation, text threads, FAQ visitors, forms,
tickets, from the new loads (_load_seq above the previous build's), the previous build's stored rows, the previous
build's staging (standing for the raw tables' earlier version of a re-delivered row: its old parent), and the
transactions of recomputed records whose customer changed. (2) The union computed for those units only (each source
filtered by unit) and enriched. (3) Persisted, each in a transaction rolled back: the full model as `create table`
against the delete of the units' stored rows from a copy of the previous build's table and the append of the rebuilt
rows; then the nightly table compared with the full result (`except all` both ways). CPU s of this process (DuckDB 2
threads, 2GB, as the benchmark).

Usage: python benchmarks/enriched_units.py BEFORE NIGHT ROUNDS COMPILED
  BEFORE    a copy of the benchmark's `after_full_build/warehouse/warehouse.duckdb` (read only)
  NIGHT     a writable copy of the warehouse after the benchmark's increment, named warehouse.duckdb
  COMPILED  the increment's `dbt_target/compiled/contact_warehouse/models/intermediate/contacts` directory
"""

import sys
import time
from pathlib import Path

import duckdb

before, night, rounds, compiled = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
c = duckdb.connect(night, read_only=False, config={"threads": 2, "memory_limit": "2GB"})
c.execute(f"attach '{before}' as b (read_only)")
S, INT = "warehouse.staging.", "warehouse.intermediate."
stg = [
    "stg_phone_system__calls",
    "stg_phone_system__ivr_events",
    "stg_phone_system__sms_messages",
    "stg_chat__conversations",
    "stg_chat__messages",
    "stg_chat__tags",
    "stg_help_center__faq_views",
    "stg_forms__submissions",
    "stg_forms__answers",
    "stg_tickets__tickets",
    "stg_tickets__messages",
    "stg_tickets__tags",
    "stg_tickets__status_changes",
]
W = max(c.execute(f"select coalesce(max(_load_seq),0) from b.staging.{t}").fetchone()[0] for t in stg)
stored = "b.intermediate.int_transactions_enriched"
units_sql = f"""
create or replace temp table new_calls as
    select call_id from {S}stg_phone_system__calls where _load_seq > {W}
    union select call_id from {S}stg_phone_system__ivr_events where _load_seq > {W}
    union select parent_call_id from {S}stg_phone_system__calls where _load_seq > {W} and parent_call_id is not null
    union select old.parent_call_id from b.staging.stg_phone_system__calls old
        where old.call_id in (select call_id from {S}stg_phone_system__calls where _load_seq > {W});
-- descendants of the new legs up to max_transfer_depth (6) levels
create or replace temp table call_units as
    with recursive d(call_id, lvl) as (
        select call_id, 0 from new_calls
        union select legs.call_id, d.lvl + 1
        from {S}stg_phone_system__calls legs join d on legs.parent_call_id = d.call_id
        where d.lvl < 6)
    select distinct call_id from d;
create or replace temp table u_changed_customer as
    select t.transaction_id, t.transaction_type, t.record_id, t.source_id from {stored} t
    join {INT}int_records_customers r on t.record_type = r.record_type and t.record_id = r.record_id
    where r._components_computed_at > (select max(_components_computed_at) from b.intermediate.int_records_customers)
      and (t.customer_key <> r.customer_key or t.is_customer_ambiguous <> r.is_ambiguous);
create or replace temp table u_roots as
    select coalesce(legs.root_call_id, call_units.call_id) as root from call_units
    left join {INT}int_call_legs_chained legs on legs.call_id = call_units.call_id
    union select t.record_id from {stored} t
    where t.transaction_type in ('ivr', 'call_leg') and t.source_id in (select call_id from call_units)
    union select record_id from u_changed_customer where transaction_type in ('ivr', 'call_leg');
create or replace temp table u_ivr_calls as
    select call_id from {INT}int_call_legs_chained where root_call_id in (select root from u_roots)
    union select root from u_roots;
create or replace temp table u_convs as
    select conversation_id from {S}stg_chat__conversations where _load_seq > {W}
    union select conversation_id from {S}stg_chat__messages where _load_seq > {W}
    union select conversation_id from {S}stg_chat__tags where _load_seq > {W}
    union select old.conversation_id from b.staging.stg_chat__messages old
        where old.message_id in (select message_id from {S}stg_chat__messages where _load_seq > {W})
    union select source_id from u_changed_customer where transaction_type in ('chat_bot', 'chat_agent');
create or replace temp table u_threads as
    select thread_id from {S}stg_phone_system__sms_messages where _load_seq > {W}
    union select old.thread_id from b.staging.stg_phone_system__sms_messages old
        where old.message_id in (select message_id from {S}stg_phone_system__sms_messages where _load_seq > {W})
    union select source_id from u_changed_customer where transaction_type = 'sms_thread_day';
create or replace temp table u_visits as
    with visitors as (
        select visitor_key from {INT}int_faq_visits_sessionized where _load_seq > {W}
        union select old.visitor_key from b.intermediate.int_faq_visits_sessionized old
            where old.view_id in (select view_id from {S}stg_help_center__faq_views where _load_seq > {W})
        union select visitor_key from {INT}int_faq_visits_sessionized
            where visit_id in (select source_id from u_changed_customer where transaction_type = 'faq_visit'))
    select visit_id from {INT}int_faq_visits_sessionized where visitor_key in (select visitor_key from visitors);
create or replace temp table u_forms as
    select response_id from {S}stg_forms__submissions where _load_seq > {W}
    union select response_id from {S}stg_forms__answers where _load_seq > {W}
    union select source_id from u_changed_customer where transaction_type = 'form';
create or replace temp table u_tickets as
    select ticket_id from {S}stg_tickets__tickets where _load_seq > {W}
    union select ticket_id from {S}stg_tickets__messages where _load_seq > {W}
    union select ticket_id from {S}stg_tickets__tags where _load_seq > {W}
    union select ticket_id from {S}stg_tickets__status_changes where _load_seq > {W}
    union select old.ticket_id from b.staging.stg_tickets__messages old
        where old.message_id in (select message_id from {S}stg_tickets__messages where _load_seq > {W})
    union select source_id from u_changed_customer where transaction_type = 'ticket_request';
"""
union = (compiled / "int_transactions_unioned.sql").read_text()
subs = [
    (
        'select * from "warehouse"."staging"."stg_phone_system__ivr_events"',
        " where call_id in (select call_id from u_ivr_calls)",
    ),
    (
        'select * from "warehouse"."intermediate"."int_call_legs_chained"',
        " where root_call_id in (select root from u_roots)",
    ),
    (
        'from "warehouse"."staging"."stg_chat__messages"',
        " where conversation_id in (select conversation_id from u_convs)",
    ),
    (
        "left join last_messages on conversations.conversation_id = last_messages.conversation_id",
        " where conversations.conversation_id in (select conversation_id from u_convs)",
    ),
    (
        'from "warehouse"."staging"."stg_phone_system__sms_messages"',
        " where thread_id in (select thread_id from u_threads)",
    ),
    (
        'select * from "warehouse"."intermediate"."int_faq_visits_sessionized"',
        " where visit_id in (select visit_id from u_visits)",
    ),
    ('from "warehouse"."staging"."stg_forms__submissions"', " where response_id in (select response_id from u_forms)"),
    (
        'from "warehouse"."intermediate"."int_ticket_requests_segmented"',
        " where ticket_id in (select ticket_id from u_tickets)",
    ),
]
for old, cond in subs:
    assert union.count(old) == 1, old
    union = union.replace(old, old + cond)
enriched = (compiled / "int_transactions_enriched.sql").read_text()
ref = 'select * from "warehouse"."intermediate"."int_transactions_unioned"'
assert ref in enriched
nightly = enriched.replace(ref, "select * from (\n" + union + "\n) as filtered_union")
delete_sql = f"""delete from stored_copy where
    (record_type = 'call_leg' and record_id in (select root from u_roots))
    or (transaction_type in ('chat_bot', 'chat_agent') and source_id in (select conversation_id from u_convs))
    or (transaction_type = 'sms_thread_day' and source_id in (select thread_id from u_threads))
    or (transaction_type = 'faq_visit' and source_id in (select visit_id from b.intermediate.int_faq_visits_sessionized
        where visitor_key in (select visitor_key from {INT}int_faq_visits_sessionized
            where visit_id in (select visit_id from u_visits))))
    or (transaction_type = 'faq_visit' and source_id in (select visit_id from u_visits))
    or (transaction_type = 'form' and source_id in (select response_id from u_forms))
    or (transaction_type = 'ticket_request' and source_id in (select ticket_id from u_tickets))
    or transaction_id in (select transaction_id from u_changed_customer)"""
c.execute("create schema if not exists scratch")
c.execute(f"create or replace table scratch.stored_copy as select * from {stored}")
c.execute("checkpoint")
delete_sql = delete_sql.replace("stored_copy", "scratch.stored_copy")
res = {"full_create_table": [], "night_units_delete_insert": []}
for r in range(rounds):
    c.execute("begin")
    t0 = time.process_time()
    c.execute(f"create table scratch.full_out as {enriched}")
    res["full_create_table"].append(round(time.process_time() - t0, 2))
    c.execute("rollback")
    c.execute("begin")
    t0 = time.process_time()
    for statement in units_sql.split(";"):
        if statement.strip():
            c.execute(statement)
    c.execute(delete_sql)
    c.execute(f"insert into scratch.stored_copy {nightly}")
    res["night_units_delete_insert"].append(round(time.process_time() - t0, 2))
    if r == rounds - 1:
        print(
            "incremental vs full, except all both ways:",
            c.execute(
                f"select count(*) from (select * from scratch.stored_copy except all select * from ({enriched}))"
            ).fetchone()[0],
            c.execute(
                f"select count(*) from (select * from ({enriched}) except all select * from scratch.stored_copy)"
            ).fetchone()[0],
        )
    c.execute("rollback")
    print(r, {k: v[-1] for k, v in res.items()}, flush=True)
print("CPU s per round", res)
c.execute("drop schema scratch cascade")
