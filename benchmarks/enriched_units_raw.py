"""int_transactions_enriched incremental by unit (DECISIONS.md "int_transactions_enriched incremental (issue 22,
enriched2, 4 December, eighth session)"), the parts benchmarks/enriched_units.py leaves out: the cost of finding the
parent a re-delivered row had, from the raw tables' earlier version (_load_seq at or below the previous build's
newest), for the five sources whose rows can move; and of finding the current units without stored rows (what a
nightly run rebuilds after its pre-hook's delete, which also repairs a failed run). CPU s of this process.

Usage: python benchmarks/enriched_units_raw.py BEFORE NIGHT ROUNDS (the same copies as enriched_units.py)
"""

import sys
import time

import duckdb

before, night, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = duckdb.connect(night, read_only=True, config={"threads": 2, "memory_limit": "2GB"})
c.execute(f"attach '{before}' as b (read_only)")
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
S = "warehouse.staging."
lookups = {
    "calls": f"""select distinct old.parent_call_id from warehouse.raw.calls old
      where old._load_seq <= {W}
        and old.call_id in (
            select call_id from {S}stg_phone_system__calls where _load_seq > {W})""",
    "sms": f"""select distinct old.thread_id from warehouse.raw.sms old
      where old._load_seq <= {W}
        and old.message_id in (
            select message_id from {S}stg_phone_system__sms_messages where _load_seq > {W})""",
    "chat": f"""select distinct old.conversation_id from warehouse.raw.chat_messages old
      where old._load_seq <= {W}
        and old.message_id in (
            select message_id from {S}stg_chat__messages where _load_seq > {W})""",
    "faq": f"""select distinct coalesce(old.visitor_id, 'ref:' || old.customer_ref, 'view:' || old.view_id)
      from warehouse.raw.faq_views old
      where old._load_seq <= {W}
        and old.view_id in (
            select view_id from {S}stg_help_center__faq_views where _load_seq > {W})""",
    "tickets": f"""select distinct old.ticket_id from warehouse.raw.ticket_comments old
      where old._load_seq <= {W}
        and old.comment_id in (
            select message_id from {S}stg_tickets__messages where _load_seq > {W})""",
}
stored = "b.intermediate.int_transactions_enriched"
INT = "warehouse.intermediate."
repair = f"""select count(*) from (
    select 'call' as kind, root_call_id as unit from {INT}int_call_legs_chained
    union select 'chat', conversation_id from {S}stg_chat__conversations
    union select 'sms', thread_id from {S}stg_phone_system__sms_messages
    union select 'faq', visit_id from {INT}int_faq_visits_sessionized
    union select 'form', response_id from {S}stg_forms__submissions
    union select 'ticket', ticket_id from {S}stg_tickets__tickets
    except
    select case when record_type = 'call_leg' then 'call' when transaction_type like 'chat%' then 'chat'
        when transaction_type = 'sms_thread_day' then 'sms' when transaction_type = 'faq_visit' then 'faq'
        when transaction_type = 'form' then 'form' else 'ticket' end,
        case when record_type = 'call_leg' then record_id else source_id end
    from {stored})"""
res = {k: [] for k in [*lookups, "repair"]}
for _round in range(rounds):
    for k, q in lookups.items():
        t0 = time.process_time()
        n = c.execute(f"select count(*) from ({q})").fetchone()[0]
        res[k].append((round(time.process_time() - t0, 3), n))
    t0 = time.process_time()
    n = c.execute(repair).fetchone()[0]
    res["repair"].append((round(time.process_time() - t0, 3), n))
print("watermark", W)
print("CPU s, rows per round", res)
