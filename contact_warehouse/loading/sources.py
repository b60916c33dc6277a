"""The canonical export formats of docs/domain.md section 1, as data.

Each export (a subfolder of the landing folder) becomes one or more tables in the ``raw`` schema. Column
types are what the loader validates: a value that does not parse is quarantined, never silently nulled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "timestamp", "integer", "double", "boolean"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    required: bool = False
    # A duration: negative values are quarantined ("negative duration").
    nonnegative: bool = False


@dataclass(frozen=True)
class Rule:
    """A row rule the loader checks on parsed values; a row breaking it is quarantined at ``field``.

    ``violated`` is SQL over the row's parsed values, written with ``{column}`` placeholders; it is true
    when the row breaks the rule (NULLs never break it: a missing value is "no data", not an error).
    """

    field: str
    violated: str
    reason: str


@dataclass(frozen=True)
class RawTable:
    """One table in the ``raw`` schema."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rules: tuple[Rule, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Export:
    """One tool export: a landing subfolder, its file format and the raw tables it fills."""

    name: str
    tool: str
    format: Literal["csv", "jsonl", "json"]
    tables: tuple[RawTable, ...]
    description: str = ""
    file_patterns: tuple[str, ...] = field(default=("*.csv",))

    @property
    def main_table(self) -> RawTable:
        return self.tables[0]


def _cols(*specs: str) -> tuple[Column, ...]:
    """Compact column specs: ``name``, ``name:type`` and a trailing ``!`` for required. The type
    ``duration`` is a non-negative integer of seconds."""
    columns = []
    for spec in specs:
        required = spec.endswith("!")
        spec = spec.rstrip("!")
        name, _, col_type = spec.partition(":")
        if col_type == "duration":
            columns.append(Column(name, "integer", required, nonnegative=True))
        else:
            columns.append(Column(name, col_type or "text", required))  # type: ignore[arg-type]
    return tuple(columns)


CALLS = Export(
    name="calls",
    tool="phone system",
    format="csv",
    description="One row per call leg; transfers chain legs through parent_call_id.",
    tables=(
        RawTable(
            "calls",
            _cols(
                "call_id!",
                "parent_call_id",
                "direction!",
                "from_number",
                "to_number",
                "customer_ref",
                "queue",
                "agent_id",
                "started_at:timestamp!",
                "queued_at:timestamp",
                "answered_at:timestamp",
                "ended_at:timestamp",
                "hold_seconds:duration",
                "silence_seconds:duration",
                "wrap_seconds:duration",
                "status!",
                "disposition",
                "resolved:boolean",
            ),
            key=("call_id",),
        ),
    ),
)

IVR_EVENTS = Export(
    name="ivr_events",
    tool="phone system",
    format="csv",
    description="One row per IVR event of a call.",
    tables=(
        RawTable(
            "ivr_events",
            _cols("call_id!", "seq:integer!", "event_at:timestamp!", "node", "event_type!", "key"),
            key=("call_id", "seq"),
        ),
    ),
)

SMS = Export(
    name="sms",
    tool="phone system",
    format="csv",
    description="One row per text message.",
    tables=(
        RawTable(
            "sms",
            _cols(
                "message_id!",
                "thread_id!",
                "direction!",
                "from_number",
                "to_number",
                "sent_at:timestamp!",
                "agent_id",
                "body",
                "status",
            ),
            key=("message_id",),
        ),
    ),
)

SURVEYS = Export(
    name="surveys",
    tool="phone system",
    format="csv",
    description="One row per survey answer (NPS 0-10 or CSAT 1-5).",
    tables=(
        RawTable(
            "surveys",
            _cols(
                "response_id!",
                "survey_type!",
                "channel",
                "contact_id",
                "respondent",
                "responded_at:timestamp!",
                "score:integer!",
                "comment",
            ),
            key=("response_id",),
            # Outside 0-10 no survey scale fits (DECISIONS.md "Survey scores"): such a row would block
            # publication in the staging suite, so it is quarantined at load. A CSAT of 7 is loaded and flagged
            # downstream (fct_survey_answers.is_valid_score).
            rules=(Rule("score", "{score} not between 0 and 10", "score outside every survey scale (0-10)"),),
        ),
    ),
)

FAQ_ARTICLES = Export(
    name="faq_articles",
    tool="help center",
    format="csv",
    description="The help center's articles.",
    tables=(
        RawTable(
            "faq_articles",
            _cols("article_id!", "title", "section", "updated_at:timestamp"),
            key=("article_id",),
        ),
    ),
)

FAQ_VIEWS = Export(
    name="faq_views",
    tool="help center",
    format="csv",
    description="One row per article view.",
    tables=(
        RawTable(
            "faq_views",
            _cols(
                "view_id!",
                "article_id!",
                "visitor_id",
                "customer_ref",
                "viewed_at:timestamp!",
                "seconds_on_page:duration",
                "vote",
                "search_query",
            ),
            key=("view_id",),
        ),
    ),
)

CUSTOMERS = Export(
    name="customers",
    tool="CRM",
    format="csv",
    description="CRM customers.",
    tables=(
        RawTable(
            "customers",
            _cols(
                "customer_ref!",
                "email",
                "phone",
                "value_tier",
                "timezone",
                "created_at:timestamp",
                "churned_at:timestamp",
            ),
            key=("customer_ref",),
        ),
    ),
)

# JSON exports are flattened by the loader into one table per nesting level, so the dbt project needs no
# JSON functions (it must also build on Spark). The JSON path of each column is in JSON_PATHS below.
CHAT_CONVERSATIONS = Export(
    name="chat_conversations",
    tool="chat tool",
    format="jsonl",
    file_patterns=("*.jsonl", "*.ndjson", "*.json"),
    description="One JSON object per line per conversation, with its messages and tags.",
    tables=(
        RawTable(
            "chat_conversations",
            _cols(
                "conversation_id!",
                "created_at:timestamp!",
                "closed_at:timestamp",
                "visitor_id",
                "visitor_email",
                "visitor_phone",
                "visitor_customer_ref",
                "bot_intent",
                "bot_handed_over_at:timestamp",
                "agent_id",
                "rating:integer",
                "resolved:boolean",
            ),
            key=("conversation_id",),
        ),
        RawTable(
            "chat_messages",
            _cols(
                "conversation_id!",
                "message_index:integer!",
                "message_id!",
                "sent_at:timestamp!",
                "author!",
                "text",
            ),
            key=("message_id",),
        ),
        RawTable(
            "chat_tags",
            _cols("conversation_id!", "tag_index:integer!", "tag!"),
            key=("conversation_id", "tag_index"),
        ),
    ),
)

FORM_SUBMISSIONS = Export(
    name="form_submissions",
    tool="form tool",
    format="json",
    file_patterns=("*.json",),
    description='One JSON document {"items": [...]} per file, one item per submission.',
    tables=(
        RawTable(
            "form_submissions",
            _cols("response_id!", "form_id", "submitted_at:timestamp!", "visitor_id"),
            key=("response_id",),
        ),
        RawTable(
            "form_answers",
            _cols("response_id!", "answer_index:integer!", "field!", "type", "value"),
            key=("response_id", "answer_index"),
        ),
    ),
)

# The help desk's tickets, modelled on Zendesk's ticket export with its comments and audits (Freshdesk and Help
# Scout export the same facts): one JSON object per line per ticket, as it stood when exported. A help desk's
# incremental export repeats a ticket in every daily file of a day it changed: the last delivery wins.
_TICKET_STATUSES = "('new', 'open', 'pending', 'hold', 'solved', 'closed')"
TICKETS = Export(
    name="tickets",
    tool="help desk",
    format="jsonl",
    file_patterns=("*.jsonl", "*.ndjson", "*.json"),
    description="One JSON object per line per ticket, with its comments, tags and status changes.",
    tables=(
        RawTable(
            "tickets",
            _cols(
                "ticket_id!",
                "subject",
                "created_at:timestamp!",
                "updated_at:timestamp",
                "solved_at:timestamp",
                "closed_at:timestamp",
                "via_channel",
                "status!",
                "priority",
                "requester_email",
                "requester_phone",
                "requester_customer_ref",
                "assignee_id",
                "group_name",
                "satisfaction_score",
                "satisfaction_rated_at:timestamp",
                # false: the export is one row per ticket without its messages and status history (a
                # spreadsheet report), so reply and status KPIs are not available; empty: they are exported.
                "history_exported:boolean",
            ),
            key=("ticket_id",),
            rules=(
                Rule("status", f"{{status}} not in {_TICKET_STATUSES}", f"status not one of {_TICKET_STATUSES}"),
                Rule(
                    "via_channel",
                    "{via_channel} not in ('email', 'web', 'phone', 'api', 'chat')",
                    "via.channel not one of email, web, phone, api, chat",
                ),
                Rule(
                    "priority",
                    "{priority} not in ('low', 'normal', 'high', 'urgent')",
                    "priority not one of low, normal, high, urgent",
                ),
                Rule(
                    "satisfaction_score",
                    "{satisfaction_score} not in ('good', 'bad', 'offered', 'unoffered')",
                    "satisfaction_rating.score not one of good, bad, offered, unoffered",
                ),
                Rule("solved_at", "{solved_at} < {created_at}", "solved before it was created"),
            ),
        ),
        RawTable(
            "ticket_comments",
            _cols(
                "ticket_id!",
                "comment_index:integer!",
                "comment_id!",
                "created_at:timestamp!",
                "author_role!",
                "author_id",
                "public:boolean!",
                "body",
            ),
            key=("comment_id",),
            rules=(
                Rule(
                    "author_role",
                    "{author_role} not in ('end-user', 'agent', 'system')",
                    "author_role not one of end-user, agent, system",
                ),
            ),
        ),
        RawTable(
            "ticket_tags",
            _cols("ticket_id!", "tag_index:integer!", "tag!"),
            key=("ticket_id", "tag_index"),
        ),
        RawTable(
            "ticket_status_changes",
            _cols(
                "ticket_id!",
                "change_index:integer!",
                "changed_at:timestamp!",
                "author_role",
                "previous_value",
                "value!",
            ),
            key=("ticket_id", "change_index"),
            rules=(
                Rule("value", f"{{value}} not in {_TICKET_STATUSES}", f"status not one of {_TICKET_STATUSES}"),
                Rule(
                    "author_role",
                    "{author_role} not in ('end-user', 'agent', 'system')",
                    "author_role not one of end-user, agent, system",
                ),
            ),
        ),
    ),
)

EXPORTS: tuple[Export, ...] = (
    CALLS,
    IVR_EVENTS,
    SMS,
    SURVEYS,
    FAQ_ARTICLES,
    FAQ_VIEWS,
    CUSTOMERS,
    CHAT_CONVERSATIONS,
    FORM_SUBMISSIONS,
    TICKETS,
)
EXPORTS_BY_NAME: dict[str, Export] = {e.name: e for e in EXPORTS}
EXPORT_OF_TABLE: dict[str, str] = {t.name: e.name for e in EXPORTS for t in e.tables}

# Where each flattened column sits in the JSON object (child tables: inside each array element).
JSON_PATHS: dict[str, dict[str, str]] = {
    "chat_conversations": {
        "conversation_id": "id",
        "created_at": "created_at",
        "closed_at": "closed_at",
        "visitor_id": "visitor.visitor_id",
        "visitor_email": "visitor.email",
        "visitor_phone": "visitor.phone",
        "visitor_customer_ref": "visitor.customer_ref",
        "bot_intent": "bot.intent",
        "bot_handed_over_at": "bot.handed_over_at",
        "agent_id": "agent_id",
        "rating": "rating",
        "resolved": "resolved",
    },
    "chat_messages": {"message_id": "id", "sent_at": "sent_at", "author": "author", "text": "text"},
    "form_submissions": {
        "response_id": "response_id",
        "form_id": "form_id",
        "submitted_at": "submitted_at",
        "visitor_id": "hidden.visitor_id",
    },
    "form_answers": {"field": "field", "type": "type", "value": "value"},
    "tickets": {
        "ticket_id": "id",
        "subject": "subject",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "solved_at": "solved_at",
        "closed_at": "closed_at",
        "via_channel": "via.channel",
        "status": "status",
        "priority": "priority",
        "requester_email": "requester.email",
        "requester_phone": "requester.phone",
        "requester_customer_ref": "requester.customer_ref",
        "assignee_id": "assignee_id",
        "group_name": "group",
        "satisfaction_score": "satisfaction_rating.score",
        "satisfaction_rated_at": "satisfaction_rating.created_at",
        "history_exported": "history_exported",
    },
    "ticket_comments": {
        "comment_id": "id",
        "created_at": "created_at",
        "author_role": "author_role",
        "author_id": "author_id",
        "public": "public",
        "body": "body",
    },
    "ticket_status_changes": {
        "changed_at": "created_at",
        "author_role": "author_role",
        "previous_value": "previous_value",
        "value": "value",
    },
}

# The JSON array each child table flattens, and the children whose array holds plain strings (not objects):
# such an element is the child's one data column itself.
JSON_ARRAYS: dict[str, str] = {
    "chat_messages": "messages",
    "chat_tags": "tags",
    "form_answers": "answers",
    "ticket_comments": "comments",
    "ticket_tags": "tags",
    "ticket_status_changes": "status_changes",
}
JSON_SCALAR_ARRAYS: dict[str, str] = {"chat_tags": "tag", "ticket_tags": "tag"}
