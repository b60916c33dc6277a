-- Level 2 building block: every use of one system (docs/domain.md section 4), before intents and customers.
--   ivr            the IVR part of a call
--   call_leg       each queue-and-agent leg of a call (and every outbound leg)
--   chat_bot       the bot part of a chat;  chat_agent  the agent part
--   sms_thread_day a text thread's messages of one day
--   faq_visit      FAQ views of one visitor less than session_gap_minutes apart
--   form           one form submission
--   ticket_request one request of a help-desk ticket: the requester's message(s) and the agent replies answering
--                  them, up to the requester's next message (int_ticket_requests_segmented); channel email
-- contact_id groups the transactions of one call (root leg) or one chat: they always share an interaction.
-- is_assisted follows docs/domain.md: voice legs, texts, the agent part of a chat and forms are assisted; the IVR,
-- the bot part of a chat and FAQ visits are self-service.
-- initiated_by says who started the contact (docs/domain.md: "who started the contact is part of every definition"):
--   customer   an inbound call (its IVR part and every leg, transfers included), a chat, a FAQ visit, a form, a
--              text thread-day whose first message came from the customer;
--   agent      an outbound call (callback, campaign), a thread-day an agent opened with a text;
--   automated  a thread-day opened by a text with no agent (one-time codes, reminders, notifications).
-- is_resolution_known is false where the export could have said whether the problem was solved but did not: an
-- answered call leg with an empty `resolved`, a chat whose `resolved` is null, and every call leg (or chat) when
-- the export carries no resolution at all (a call log without a resolution column: FCR over its abandoned calls
-- alone would read 0 %). Such a transaction is "no data" for resolution KPIs, never "not resolved".
-- A view (DECISIONS.md "int_transactions_unioned is a view"): its only reader, int_transactions_enriched, reads it
-- once a night, so a table only added a write of every transaction; its data tests are on int_transactions_enriched,
-- which passes every column through, one row per transaction.
{{ config(materialized='view') }}

{{ transactions_union() }}
