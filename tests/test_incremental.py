"""Incremental models (staging, identity resolution by record and by component, and the hierarchy incremental by
customer): a nightly run on top of the history gives exactly what a full refresh of the same warehouse gives,
re-delivered rows, merged customers and a split customer included."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import load_landing, run_dbt

from contact_warehouse.generator.days import Size, add_next_day, generate_data
from contact_warehouse.settings import DBT_PROJECT_DIR

HISTORY_DAYS = 4
SMALL = Size("incremental-test", customers=300, approx_events=6_000)


IDENTITY = [
    "int_identifier_occurrences",
    "int_identifiers_classified",
    "int_identity_components",
    "int_records_customers",
]

# When the run that computed a row started (int_identity_components, and the newest of a record's components in
# int_records_customers) and the newest load it saw (int_records_customers): what a nightly run kept is older than
# what it computed, so a full refresh differs there by design; every other column is compared.
RUN_MARKERS = (
    "_computed_at",
    "_components_computed_at",
    "_newest_load_seq",
    "_records_computed_at",
    # int_survey_answers_matched's watermarks (macros/incremental_survey_answers.sql).
    "_answers_load_seq",
    "_transactions_load_seq",
)
# Models whose _input_fingerprint hashes run markers (when their inputs were computed), so that a full refresh gives
# other fingerprints for the same rows: compared without it.
FINGERPRINTS_OF_RUN_MARKERS = ("dim_customer_identifiers",)

# Incremental by ticket (macros/incremental_tickets.sql).
TICKETS_BY_TICKET = ["int_ticket_messages_sequenced", "int_ticket_requests_segmented", "int_tickets_timed"]

HIERARCHY_BY_CUSTOMER = [
    "fct_engagements",
    "fct_events",
    "fct_interactions",
    "fct_transactions",
    "int_engagements_windowed",
    "int_interactions_sessionized",
    "int_interactions_summarized",
]


def _incremental_models(db: Path) -> list[str]:
    result = run_dbt(
        ["ls", "--resource-type", "model", "--select", "config.materialized:incremental", "--output", "name"],
        db,
    )
    return sorted(line.strip() for line in result.stdout.splitlines() if re.fullmatch(r"[a-z0-9_]+", line.strip()))


# Two days, not the default seven: with HISTORY_DAYS of history, engagement windows then end during the new day, so
# the nightly run has to rebuild customers whose transactions did not change (fct_engagements' is_window_complete).
WINDOW_VARS = ["--vars", "{engagement_window_days: 2}"]


def _build(db: Path, *flags: str) -> None:
    """`dbt seed` then `dbt run`, in one dbt start-up (a build of seeds and models runs no test)."""
    run_dbt(["build", "--resource-type", "seed", "--resource-type", "model", *WINDOW_VARS, *flags], db)


def _first_file(landing: Path, export: str) -> tuple[Path, list[str], list[dict[str, str]]]:
    """The export's first CSV file, its header and its rows."""
    first = sorted((landing / export).glob("*.csv"))[0]
    with first.open(newline="") as f:
        reader = csv.DictReader(f)
        return first, list(reader.fieldnames or []), list(reader)


def _second_daily_calls_file(landing: Path) -> tuple[Path, list[str], list[dict[str, str]]]:
    """The second daily calls file (the exports' own, not the corrections written beside them), its header and rows."""
    second = [path for path in sorted((landing / "calls").glob("*.csv")) if path.stem.count("_") == 1][1]
    with second.open(newline="") as f:
        reader = csv.DictReader(f)
        return second, list(reader.fieldnames or []), list(reader)


def _write_correction(original: Path, suffix: str, header: list[str], row: dict[str, str]) -> None:
    """One corrected row, delivered as a new file beside the original: the kind of correction a vendor sends
    days later."""
    with original.with_name(f"{original.stem}_{suffix}.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerow(row)


def _redeliver(landing: Path, export: str, column: str, values: tuple[str, str]) -> tuple[str, str]:
    """A re-export of the first row of the export's first file, with ``column`` changed to the one of ``values``
    it does not hold. Returns the row's key and the new value."""
    first, header, rows = _first_file(landing, export)
    row = rows[0]
    row[column] = values[1] if row[column] == values[0] else values[0]
    _write_correction(first, "correction", header, row)
    return row[header[0]], row[column]


def _correct_survey_answer(landing: Path) -> tuple[str, str, str, str]:
    """The survey tool re-delivers an answer about a call with another score and the call of another answer (a
    vendor fixing which call was surveyed): its match must move. Returns its response id, the new contact and score,
    and the other answer's response id."""
    for path in sorted((landing / "surveys").glob("*.csv")):
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            header, rows = list(reader.fieldnames or []), list(reader)
        calls = [row for row in rows if row["contact_id"].startswith("CA")]
        if len({row["contact_id"] for row in calls}) > 1:
            break
    row = calls[0]
    other = next(candidate for candidate in calls[1:] if candidate["contact_id"] != row["contact_id"])
    row["contact_id"] = other["contact_id"]
    row["score"] = "1" if row["score"] != "1" else "2"
    _write_correction(path, "correction", header, row)
    return row["response_id"], row["contact_id"], row["score"], other["response_id"]


def _link_two_customers(landing: Path) -> tuple[str, str]:
    """A correction of an inbound call that now names another CRM customer: the caller's number and that
    customer's reference are then one customer, so two customers of the history merge into one. Returns the
    call and the other customer's reference."""
    first, header, rows = _first_file(landing, "calls")
    call = next(r for r in rows[1:] if r["direction"] == "inbound" and r["customer_ref"] and r["from_number"])
    _, _, customers = _first_file(landing, "customers")
    other_ref = next(r["customer_ref"] for r in customers if r["customer_ref"] != call["customer_ref"])
    call["customer_ref"] = other_ref
    _write_correction(first, "link", header, call)
    return call["call_id"], other_ref


def _move_text_to_another_thread(landing: Path) -> tuple[str, str]:
    """A correction of the first text message of the first SMS file that files it under another thread of that
    file (a vendor fixing its threading): the event moves to another transaction, whose customer may be another
    one. Returns the message and its new thread."""
    first, header, rows = _first_file(landing, "sms")
    message = rows[0]
    message["thread_id"] = next(r["thread_id"] for r in rows[1:] if r["thread_id"] != message["thread_id"])
    _write_correction(first, "rethreaded", header, message)
    return message["message_id"], message["thread_id"]


def _reparent_leg(landing: Path) -> tuple[str, str]:
    """A correction of a first leg of the first calls file that files it as transferred from another customer's first
    leg of that file (rows from the end, away from the other corrections): the leg leaves its own call for the other
    one, so the transactions of both calls change (root, contact, transfers, customer). Returns the leg and its new
    parent."""
    first, header, rows = _first_file(landing, "calls")
    legs = [r for r in rows[2:] if not r["parent_call_id"] and r["direction"] == "inbound" and r["customer_ref"]]
    leg = legs[-1]
    # Another customer's call: the leg's transactions change customer too.
    parent = next(r for r in reversed(legs) if r["customer_ref"] != leg["customer_ref"])
    leg["parent_call_id"] = parent["call_id"]
    _write_correction(first, "reparented", header, leg)
    return leg["call_id"], parent["call_id"]


def _reparent_leg_within_its_customer(landing: Path, excluded: set[str]) -> tuple[str, str]:
    """A correction of a first leg of the second calls file that files it as transferred from an earlier first leg of
    the same customer (a vendor fixing its transfer records): the customer's transactions keep their customer, but
    one call loses a leg and its IVR to the other, so interactions, engagements and their paths change. Legs in
    ``excluded`` (the other corrections') are not taken. Returns the leg and its new parent."""
    second, header, rows = _second_daily_calls_file(landing)
    legs = [
        r
        for r in rows
        if not r["parent_call_id"]
        and r["direction"] == "inbound"
        and r["customer_ref"]
        and r["call_id"] not in excluded
    ]
    for index, leg in enumerate(legs):
        parent = next((r for r in legs[:index] if r["customer_ref"] == leg["customer_ref"]), None)
        if parent is not None:
            leg["parent_call_id"] = parent["call_id"]
            _write_correction(second, "reparented_within", header, leg)
            return leg["call_id"], parent["call_id"]
    raise AssertionError(f"no customer has two first legs in {second}")


def _move_chat_message(landing: Path) -> tuple[str, str]:
    """A re-export of two conversations of the chat files: the last customer message of the first moves to the
    second, as a vendor merging a visitor's conversations would re-export them. The message's transaction and
    sentiment move with it. Returns the message and its new conversation."""
    # The history's files: the new day's file loads after the re-export (by name) and would undo it.
    files = sorted((landing / "chat_conversations").glob("*.jsonl"))[:-1]
    first = files[0]
    conversations = [row for path in files for row in _json_lines(path)]
    source, target = _two_with_customer_messages(conversations)
    message = next(m for m in reversed(source["messages"]) if m["author"] == "customer")
    source["messages"] = [m for m in source["messages"] if m is not message]
    target["messages"] = sorted([*target["messages"], message], key=lambda m: m["sent_at"])
    moved = first.with_name(f"{first.stem}_moved.jsonl")
    moved.write_text("".join(json.dumps(c) + "\n" for c in (source, target)))
    return message["id"], target["id"]


def _solve_a_ticket(landing: Path) -> tuple[str, str, str]:
    """A re-export of an unsolved ticket of the history, delivered in the night: an agent now replied and solved it
    (a new public comment, a status change to solved, status solved), as a help desk re-exports a ticket that changed.
    Preferably one still unanswered (its unanswered time ran to the data's end). A ticket the new day's file carries
    too is not taken (that file loads after the re-export, by name, and would undo it). Returns the ticket, the new
    comment and its time."""
    files = sorted((landing / "tickets").glob("*.jsonl"))
    history, new_day = files[:-1], files[-1]
    later = {ticket["id"] for ticket in _json_lines(new_day)}
    tickets = {}
    for path in history:
        for ticket in _json_lines(path):
            tickets[ticket["id"]] = (path, ticket)
    open_tickets = [
        (path, ticket)
        for path, ticket in tickets.values()
        if ticket["id"] not in later and ticket["status"] not in ("solved", "closed") and ticket["comments"]
    ]

    def unanswered(ticket: dict) -> bool:
        return not any(c["author_role"] == "agent" and c["public"] for c in ticket["comments"])

    path, ticket = sorted(open_tickets, key=lambda pair: not unanswered(pair[1]))[0]
    last = max([c["created_at"] for c in ticket["comments"]] + [c["created_at"] for c in ticket["status_changes"]])
    replied = (datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    comment = {
        "id": "TCsolvedbycorrection",
        "author_role": "agent",
        "author_id": ticket["assignee_id"] or "A001",
        "public": True,
        "body": "This is fixed now.",
        "created_at": replied,
    }
    ticket["comments"].append(comment)
    ticket["status_changes"].append(
        {"created_at": replied, "author_role": "agent", "previous_value": ticket["status"], "value": "solved"}
    )
    ticket.update(status="solved", solved_at=replied, updated_at=replied)
    path.with_name(f"{path.stem}_solved.jsonl").write_text(json.dumps(ticket) + "\n")
    return ticket["id"], comment["id"], replied


def _json_lines(path: Path) -> list[dict]:
    """The well-formed records of a JSON-lines export (the generator plants broken ones, which are quarantined)."""
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def _two_with_customer_messages(conversations: list[dict]) -> tuple[dict, dict]:
    """Two conversations (after the first) with customer messages: the one with most messages, which keeps some
    after the move, and the next one."""
    found = [c for c in conversations[1:] if any(m["author"] == "customer" for m in c["messages"])]
    source = max(found, key=lambda c: len(c["messages"]))
    return source, next(c for c in found if c is not source)


def _withhold_parent_leg(landing: Path) -> tuple[Path, list[str], dict[str, str], str]:
    """Takes out of the second daily calls file (before the history is loaded) the parent of its first transferred
    leg: the phone system exported the transferred leg a day before the call it came from. Returns the file, its
    header, the withheld parent and its child."""
    second, header, rows = _second_daily_calls_file(landing)
    ids = {row["call_id"] for row in rows}
    child = next(r for r in rows if r["parent_call_id"] in ids and not _has_parent(rows, r["parent_call_id"]))
    parent = next(r for r in rows if r["call_id"] == child["parent_call_id"])
    with second.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(r for r in rows if r is not parent)
    return second, header, parent, child["call_id"]


def _has_parent(rows: list[dict[str, str]], call_id: str) -> bool:
    return any(r["call_id"] == call_id and r["parent_call_id"] for r in rows)


def _move_view_to_another_visitor(db: Path, landing: Path) -> tuple[str, str, str]:
    """A correction of the second and last FAQ view of a visit, filing it under another visitor: the visit it
    leaves keeps its id (its first view) and ends earlier, and only the view's earlier visitor finds it. Returns the
    view, its earlier visit and its new visitor."""
    with duckdb.connect(str(db), read_only=True) as con:
        view_id, visit_id, other_visitor = con.execute(
            "select views.view_id, views.visit_id, others.visitor_id"
            " from intermediate.int_faq_visits_sessionized as views"
            " cross join (select max(visitor_id) as visitor_id from staging.stg_help_center__faq_views) as others"
            " where views.view_id <> views.visit_id and views.visitor_id is not null"
            " and views.visit_id in (select visit_id from intermediate.int_faq_visits_sessionized"
            " group by visit_id having count(*) = 2)"
            " and views.visitor_id <> others.visitor_id order by views.view_id limit 1"
        ).fetchone()
    for path in sorted((landing / "faq_views").glob("*.csv")):
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            header, rows = list(reader.fieldnames or []), list(reader)
        row = next((r for r in rows if r["view_id"] == view_id), None)
        if row is not None:
            row["visitor_id"] = other_visitor
            _write_correction(path, "revisited", header, row)
            return view_id, visit_id, other_visitor
    raise AssertionError(f"view {view_id} is in no FAQ file")


def _mark_faq_visitors(db: Path, touched_views: list[str]) -> dict:
    """Before the nightly run: search_query set to MARK (read by no model downstream) on every view of the 20
    visitors whose views ended first and of the visitors of ``touched_views`` (views the night re-delivers), their
    values kept in main.original_search_query, to tell afterwards which visitors int_faq_visits_sessionized rebuilt."""
    with duckdb.connect(str(db)) as con:
        early = _first_column(
            con,
            "select visitor_key from intermediate.int_faq_visits_sessionized group by visitor_key"
            " order by max(viewed_at), visitor_key limit 20",
        )
        touched = _first_column(
            con,
            "select distinct visitor_key from intermediate.int_faq_visits_sessionized where view_id in ?",
            [touched_views],
        )
        con.execute(
            "create table main.original_search_query as select view_id, search_query"
            " from intermediate.int_faq_visits_sessionized where visitor_key in ?",
            [early + touched],
        )
        con.execute(
            "update intermediate.int_faq_visits_sessionized set search_query = ? where visitor_key in ?",
            [MARK, early + touched],
        )
    return {"early": early, "touched": touched}


def _unmark_faq_visitors(db: Path, marked: dict) -> dict:
    """After the nightly run: the marks left on the early and on the touched visitors, then the original values back
    (for the full-refresh comparison)."""
    with duckdb.connect(str(db)) as con:

        def marks(visitors: list[str]) -> int:
            return con.execute(
                "select count(*) from intermediate.int_faq_visits_sessionized"
                " where search_query = ? and visitor_key in ?",
                [MARK, visitors],
            ).fetchone()[0]

        result = {"early_marks": marks(marked["early"]), "touched_marks": marks(marked["touched"])}
        con.execute(
            "update intermediate.int_faq_visits_sessionized set search_query = original.search_query"
            " from main.original_search_query as original"
            " where int_faq_visits_sessionized.view_id = original.view_id"
            " and int_faq_visits_sessionized.search_query = ?",
            [MARK],
        )
        con.execute("drop table main.original_search_query")
    return {**marked, **result}


def _newest_customers_file(landing: Path) -> tuple[Path, list[str], list[dict[str, str]]]:
    """The newest CRM export (a whole snapshot each day), its header and its rows."""
    newest = sorted((landing / "customers").glob("*.csv"))[-1]
    with newest.open(newline="") as f:
        reader = csv.DictReader(f)
        return newest, list(reader.fieldnames or []), list(reader)


def _split_candidate(db: Path, landing: Path, excluded: set[str]) -> tuple[str, str, str]:
    """A CRM customer of the newest customers file whose e-mail is on one other record only, that record's only
    identifier: without the e-mail, that record is a customer of its own. Returns the customer_ref and the other
    record's type and id."""
    _, _, rows = _newest_customers_file(landing)
    refs = [row["customer_ref"] for row in rows if row["email"] and row["customer_ref"] not in excluded]
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute(
            """
            select crm.record_id, other.record_type, other.record_id
            from intermediate.int_identifier_occurrences as crm
            inner join intermediate.int_identifiers_classified as classified
                on crm.identifier_node = classified.identifier_node and classified.records = 2
            inner join intermediate.int_identifier_occurrences as other
                on crm.identifier_node = other.identifier_node and other.record_type <> 'crm_customer'
            where crm.record_type = 'crm_customer' and crm.identifier_type = 'email' and crm.record_id in ?
                and not exists (
                    select 1 from intermediate.int_identifier_occurrences as more
                    where more.record_type = other.record_type and more.record_id = other.record_id
                        and more.identifier_node <> other.identifier_node
                )
            order by crm.record_id, other.record_type, other.record_id
            limit 1
            """,
            [refs],
        ).fetchone()
    assert found, "no CRM customer shares its e-mail with one record known by it alone"
    return found


def _split_customer(landing: Path, customer_ref: str) -> None:
    """The new day's CRM export lists the customer without its e-mail (a correction: the CRM export is a whole
    snapshot each day, so a correction file of an earlier day would be overridden by it): the records known only
    by that e-mail leave the customer."""
    newest, header, rows = _newest_customers_file(landing)
    for row in rows:
        if row["customer_ref"] == customer_ref:
            row["email"] = ""
    with newest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _unblock_candidate(db: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The blocked identifier that CRM customers carry (the generator's switchboard number, the phone of five of
    them): those CRM customers, and the records of other kinds that it is the only identifier of (ambiguous customers
    of their own). Without the CRM customers, the number is seen with the customer_refs of its other records only, at
    most max_customers_per_identifier (3): it is unblocked, and links those records, which are not re-delivered."""
    with duckdb.connect(str(db), read_only=True) as con:
        node, crm_refs = con.execute(
            """
            select classified.identifier_node, list(distinct occurrences.record_id order by occurrences.record_id)
            from intermediate.int_identifiers_classified as classified
            inner join intermediate.int_identifier_occurrences as occurrences
                on classified.identifier_node = occurrences.identifier_node
            where classified.is_blocked and occurrences.record_type = 'crm_customer'
            group by classified.identifier_node
            order by classified.identifier_node
            limit 1
            """
        ).fetchone()
        other_refs = con.execute(
            """
            select count(distinct refs.customer_ref)
            from intermediate.int_identifier_occurrences as carriers
            inner join intermediate.int_identifier_occurrences as refs
                on carriers.record_type = refs.record_type and carriers.record_id = refs.record_id
            where carriers.identifier_node = ? and carriers.record_type <> 'crm_customer'
                and refs.customer_ref is not null
            """,
            [node],
        ).fetchone()[0]
        ambiguous = con.execute(
            """
            select records.record_type, records.record_id
            from intermediate.int_records_customers as records
            inner join intermediate.int_identifier_occurrences as occurrences
                on records.record_type = occurrences.record_type and records.record_id = occurrences.record_id
            where records.is_ambiguous and occurrences.identifier_node = ?
            order by records.record_type, records.record_id
            """,
            [node],
        ).fetchall()
    assert 0 < other_refs <= 3, "the blocked CRM number would stay blocked without its CRM customers"
    assert ambiguous, "no record is known by the blocked CRM number alone"
    return crm_refs, ambiguous


def _unblock(landing: Path, crm_refs: list[str]) -> None:
    """The new day's CRM export lists those customers without their phone (the switchboard number)."""
    newest, header, rows = _newest_customers_file(landing)
    for row in rows:
        if row["customer_ref"] in crm_refs:
            row["phone"] = ""
    with newest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _records_ambiguity(db: Path, records: list[tuple[str, str]]) -> list[tuple[bool, str]]:
    """Whether each record is ambiguous, and its customer."""
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            con.execute(
                "select is_ambiguous, customer_key from intermediate.int_records_customers"
                " where record_type = ? and record_id = ?",
                list(record),
            ).fetchone()
            for record in records
        ]


def _record_customer(db: Path, record_type: str, record_id: str) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select customer_key from intermediate.int_records_customers where record_type = ? and record_id = ?",
            [record_type, record_id],
        ).fetchone()[0]


def _customer_keys(db: Path, call_id: str, customer_ref: str) -> tuple[str, str]:
    """The customer of the call's transaction and the customer of the CRM record."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            """
            select
                (select customer_key from marts.fct_transactions where transaction_id = 'call:' || ?),
                (select customer_key from intermediate.int_records_customers
                 where record_type = 'crm_customer' and record_id = ?)
            """,
            [call_id, customer_ref],
        ).fetchone()


MARK = "marked-after-history"


def _fingerprints(
    con: duckdb.DuckDBPyConnection, customers: list[str], model: str = "int_customer_fingerprints"
) -> dict[str, str]:
    """The ``customers``' input fingerprints in ``model`` (int_customer_fingerprints or int_engagement_fingerprints)."""
    return dict(
        con.execute(
            f"select customer_key, input_fingerprint from intermediate.{model} where customer_key in ?",
            [customers],
        ).fetchall()
    )


# The column set to MARK in each incremental mart (its rows of the marked customers), with the mart's row key.
MARKED_COLUMNS = (
    ("fct_interactions", "interaction_id", "last_queue"),
    ("fct_engagements", "engagement_id", "channel_path"),
)


def _mark(
    con: duckdb.DuckDBPyConnection, table: str, key: str, column: str, marked: list[str], stale: list[str]
) -> None:
    """Set ``column`` to MARK on the ``marked`` customers' rows (their values kept in main.original_<column>), and
    a stale fingerprint on the ``stale`` customers' rows."""
    con.execute(
        f"create table main.original_{column} as select {key}, {column} from marts.{table} where customer_key in ?",
        [marked],
    )
    con.execute(f"update marts.{table} set {column} = ? where customer_key in ?", [MARK, marked])
    con.execute(f"update marts.{table} set _input_fingerprint = 'stale' where customer_key in ?", [stale])
    # The night finds them in the customers the model holds (macros/incremental_customers.sql built_customers).
    con.execute(
        f"update intermediate.{table}__built_customers set input_fingerprint = 'stale' where customer_key in ?", [stale]
    )


def _restore(con: duckdb.DuckDBPyConnection, table: str, key: str, column: str) -> None:
    """Put back the values _mark replaced on the rows the nightly run kept (those still marked: a rebuilt row has
    tonight's value, which may differ from the one marked) and drop their copy."""
    con.execute(
        f"update marts.{table} set {column} = original.{column} from main.original_{column} as original"
        f" where {table}.{key} = original.{key} and {table}.{column} = ?",
        [MARK],
    )
    con.execute(f"drop table main.original_{column}")


def _mark_texts(db: Path) -> dict:
    """int_message_sentiment (incremental by text, judged by customer): sets sentiment to MARK on the texts of the 20
    customers whose texts ended first that have a fingerprint (values and loads kept in main.original_text_sentiment),
    and a stale fingerprint on the texts of 5 more (the small data set has some 30 customers with texts), to tell
    afterwards which rows the nightly run kept and rebuilt."""
    with duckdb.connect(str(db)) as con:
        early = _first_column(
            con,
            "select customer_key from intermediate.int_message_sentiment where customer_key is not null"
            " group by customer_key order by max(written_at), customer_key limit 25",
        )
        marked, stale = early[:20], early[20:]
        con.execute(
            "create table main.original_text_sentiment as select text_id, sentiment, _load_seq"
            " from intermediate.int_message_sentiment where customer_key in ? and _input_fingerprint is not null",
            [marked],
        )
        con.execute(
            "update intermediate.int_message_sentiment set sentiment = ?"
            " where text_id in (select text_id from main.original_text_sentiment)",
            [MARK],
        )
        con.execute(
            "update intermediate.int_message_sentiment set _input_fingerprint = 'stale' where customer_key in ?",
            [stale],
        )
        return {"fingerprints": _fingerprints(con, marked, "int_engagement_fingerprints"), "stale": stale}


def _unmark_texts(db: Path, marked: dict) -> dict:
    """After the nightly run: of the marked texts not re-delivered (same load), those of the customers whose
    engagement fingerprint did not change and how many kept their mark; the marks left on the other customers' texts
    (rebuilt); the stale fingerprints left; then the original values back."""
    with duckdb.connect(str(db)) as con:
        now = _fingerprints(con, list(marked["fingerprints"]), "int_engagement_fingerprints")
        kept = [key for key, value in marked["fingerprints"].items() if now.get(key) == value]
        changed = [key for key in marked["fingerprints"] if key not in kept]

        def count(condition: str, *parameters: object) -> int:
            query = (
                "select count(*) from intermediate.int_message_sentiment as texts"
                " left join main.original_text_sentiment as original on texts.text_id = original.text_id"
                f" where {condition}"
            )
            return con.execute(query, parameters).fetchone()[0]

        not_redelivered = "texts._load_seq = original._load_seq and texts.customer_key in ?"
        result = {
            "kept": kept,
            "kept_texts": count(not_redelivered, kept) if kept else 0,
            "kept_marks": count(f"texts.sentiment = ? and {not_redelivered}", MARK, kept) if kept else 0,
            "changed_marks": count("texts.sentiment = ? and texts.customer_key in ?", MARK, changed) if changed else 0,
            "stale_left": count("texts._input_fingerprint = 'stale'"),
            "stale_rebuilt": count("texts.customer_key in ?", marked["stale"]),
        }
        con.execute(
            "update intermediate.int_message_sentiment set sentiment = original.sentiment"
            " from main.original_text_sentiment as original"
            " where int_message_sentiment.text_id = original.text_id and int_message_sentiment.sentiment = ?",
            [MARK],
        )
        con.execute("drop table main.original_text_sentiment")
    return result


def _first_column(con: duckdb.DuckDBPyConnection, query: str, parameters: list | None = None) -> list:
    """The first column of ``query``'s rows, in their order."""
    return [row[0] for row in con.execute(query, parameters or []).fetchall()]


def _mark_early_customers(db: Path) -> dict:
    """Marks the interactions and engagements of the 40 customers whose contacts ended first (last_queue and
    channel_path set to MARK), and gives 20 more a stale fingerprint, to tell afterwards which rows the nightly run
    rebuilt."""
    with duckdb.connect(str(db)) as con:
        early = _first_column(
            con,
            "select customer_key from marts.fct_interactions group by customer_key"
            " order by max(ended_at), customer_key limit 60",
        )
        marked, stale = early[:40], early[40:]
        for table, key, column in MARKED_COLUMNS:
            _mark(con, table, key, column, marked, stale)
        # A customer with a window still running is rebuilt when the data's end passes it, whatever its fingerprint.
        closed = _first_column(
            con,
            "select customer_key from marts.fct_engagements where customer_key in ? group by customer_key"
            " having bool_and(is_window_complete)",
            [marked],
        )
        return {
            "fingerprints": _fingerprints(con, marked),
            "engagement_fingerprints": _fingerprints(con, marked, "int_engagement_fingerprints"),
            "windows_closed": closed,
        }


def _stale_identifiers(db: Path) -> int:
    """Gives the identifiers of 20 components of several identifiers a stale fingerprint: the nightly run must
    recompute their whole components (the equality test then holds only if it did). Returns how many."""
    with duckdb.connect(str(db)) as con:
        labels = _first_column(
            con,
            "select component_label from intermediate.int_identity_components group by component_label"
            " having count(*) > 1 order by component_label limit 20",
        )
        # One identifier per component, not its label: the pre-hook must widen it to the whole component.
        return con.execute(
            "update intermediate.int_identity_components set _input_fingerprint = 'stale' where identifier_node in"
            " (select max(identifier_node) from intermediate.int_identity_components where component_label in ?"
            " group by component_label)",
            [labels],
        ).fetchone()[0]


def _unmark(db: Path, marked: dict) -> dict:
    """After the nightly run: which marks survived, then the original values back (for the full-refresh
    comparison)."""
    with duckdb.connect(str(db)) as con:
        now = _fingerprints(con, list(marked["fingerprints"]))
        kept = [key for key, value in marked["fingerprints"].items() if now.get(key) == value]

        def count(condition: str, *parameters: object) -> int:
            return con.execute(f"select count(*) from marts.fct_interactions where {condition}", parameters).fetchone()[
                0
            ]

        now_engagements = _fingerprints(con, list(marked["engagement_fingerprints"]), "int_engagement_fingerprints")
        unchanged = [
            key for key, value in marked["engagement_fingerprints"].items() if now_engagements.get(key) == value
        ]
        kept_engagements = [key for key in unchanged if key in marked["windows_closed"]]

        def count_engagements(condition: str, *parameters: object) -> int:
            return con.execute(f"select count(*) from marts.fct_engagements where {condition}", parameters).fetchone()[
                0
            ]

        result = {
            "kept": kept,
            "kept_interactions": count("customer_key in ?", kept) if kept else 0,
            "kept_marks": count("last_queue = ? and customer_key in ?", MARK, kept) if kept else 0,
            "marks": count("last_queue = ?", MARK),
            "stale_left": count("_input_fingerprint = 'stale'"),
            "kept_engagement_customers": kept_engagements,
            "kept_engagements": count_engagements("customer_key in ?", kept_engagements) if kept_engagements else 0,
            "kept_engagement_marks": count_engagements("channel_path = ? and customer_key in ?", MARK, kept_engagements)
            if kept_engagements
            else 0,
            "engagement_marks": count_engagements("channel_path = ?", MARK),
            "unchanged_engagement_marks": count_engagements("channel_path = ? and customer_key in ?", MARK, unchanged)
            if unchanged
            else 0,
            "stale_engagements_left": count_engagements("_input_fingerprint = 'stale'"),
        }
        for table, key, column in MARKED_COLUMNS:
            _restore(con, table, key, column)
    return result


def _open_windows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, bool]]:
    """Every engagement: its customer's engagement fingerprint and whether its window is complete."""
    return {
        engagement_id: (fingerprint, complete)
        for engagement_id, fingerprint, complete in con.execute(
            "select engagements.engagement_id, fingerprints.input_fingerprint, engagements.is_window_complete"
            " from marts.fct_engagements as engagements"
            " inner join intermediate.int_engagement_fingerprints as fingerprints using (customer_key)"
        ).fetchall()
    }


def _compiled_code(name: str) -> str:
    results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    return next(r["compiled_code"] for r in results if r["unique_id"].endswith("." + name))


def _schema(con: duckdb.DuckDBPyConnection, model: str) -> str:
    return con.execute(
        "select table_schema from information_schema.tables where table_catalog = current_database()"
        " and table_name = ?",
        [model],
    ).fetchone()[0]


def _differences(con: duckdb.DuckDBPyConnection, model: str) -> tuple[int, int]:
    """Rows of the incremental table missing from the full refresh, and the other way round (as multisets; every
    column but the RUN_MARKERS)."""
    schema = _schema(con, model)
    table, full = f"{schema}.{model}", f"full_refresh.{schema}.{model}"
    described = con.execute(f"select * from {table} limit 0").description
    markers = (*RUN_MARKERS, "_input_fingerprint") if model in FINGERPRINTS_OF_RUN_MARKERS else RUN_MARKERS
    columns = ", ".join(f'"{column[0]}"' for column in described if column[0] not in markers)
    only_incremental = con.execute(
        f"select count(*) from (select {columns} from {table} except all select {columns} from {full})"
    ).fetchone()[0]
    only_full = con.execute(
        f"select count(*) from (select {columns} from {full} except all select {columns} from {table})"
    ).fetchone()[0]
    return only_incremental, only_full


@pytest.fixture(scope="module")
def nightly_warehouse(tmp_path_factory: pytest.TempPathFactory):
    """History built, then one more day, three re-delivered corrections and one that merges two customers
    loaded and built incrementally; then a full refresh of a copy."""
    work = tmp_path_factory.mktemp("incremental")
    generate_data(work, SMALL, seed=7, days=HISTORY_DAYS)
    landing = work / "landing"
    late_file, late_header, late_parent, late_child = _withhold_parent_leg(landing)
    db = work / "warehouse" / "warehouse.duckdb"
    db.parent.mkdir()
    load_landing(db, landing)
    _build(db)
    with duckdb.connect(str(db), read_only=True) as con:
        history_ivr_events = con.execute("select count(*) from staging.stg_phone_system__ivr_events").fetchone()[0]
        history_customers = set(_first_column(con, "select distinct customer_key from marts.fct_interactions"))
        open_at_history = {key: value for key, value in _open_windows(con).items() if not value[1]}

    marked = _mark_early_customers(db)
    marked_texts = _mark_texts(db)
    stale_identifiers = _stale_identifiers(db)

    add_next_day(work)
    call = _redeliver(landing, "calls", "resolved", ("true", "false"))
    view = _redeliver(landing, "faq_views", "vote", ("down", "up"))
    ivr_event = _redeliver(landing, "ivr_events", "node", ("identify", "main_menu"))
    rethreaded = _move_text_to_another_thread(landing)
    reparented = _reparent_leg(landing)
    _write_correction(late_file, "late", late_header, late_parent)
    moved_message = _move_chat_message(landing)
    corrected_answer = _correct_survey_answer(landing)
    solved_ticket = _solve_a_ticket(landing)
    reparented_within = _reparent_leg_within_its_customer(landing, {reparented[0], reparented[1], call[0]})
    revisited = _move_view_to_another_visitor(db, landing)
    faq_visitors = _mark_faq_visitors(db, [view[0], revisited[0]])
    linked_call, other_ref = _link_two_customers(landing)
    keys_before_link = _customer_keys(db, linked_call, other_ref)
    unblocked_refs, unblocked_records = _unblock_candidate(db)
    split_ref, *split_record = _split_candidate(db, landing, {other_ref, *unblocked_refs})
    keys_before_split = (_record_customer(db, "crm_customer", split_ref), _record_customer(db, *split_record))
    _split_customer(landing, split_ref)
    _unblock(landing, unblocked_refs)
    load_landing(db, landing)
    _build(db)
    compiled = {
        name: _compiled_code(name)
        for name in (
            "stg_phone_system__calls",
            "stg_help_center__faq_views",
            "dim_customer_identifiers",
            "mart_ivr_calls",
            "int_message_sentiment",
            *IDENTITY,
            *HIERARCHY_BY_CUSTOMER,
        )
    }
    keys_after_split = (_record_customer(db, "crm_customer", split_ref), _record_customer(db, *split_record))
    unblocked_after = _records_ambiguity(db, unblocked_records)
    with duckdb.connect(str(db), read_only=True) as con:
        stale_left = con.execute(
            "select count(*) from intermediate.int_identity_components where _input_fingerprint = 'stale'"
        ).fetchone()[0]
        # Records whose row the nightly run kept (built from older components) and rebuilt.
        records_kept_rebuilt = con.execute(
            "select count(*) filter (where _components_computed_at < newest), count(*) filter (where"
            " _components_computed_at = newest) from intermediate.int_records_customers"
            " cross join (select max(_computed_at) as newest from intermediate.int_identity_components)"
        ).fetchone()

    marked.update(_unmark(db, marked))
    marked_texts = _unmark_texts(db, marked_texts)
    faq_visitors = _unmark_faq_visitors(db, faq_visitors)
    with duckdb.connect(str(db), read_only=True) as con:
        now = _open_windows(con)
    # Engagements whose window ended during the new day while their customer's inputs did not change.
    closed_overnight = [
        engagement_id
        for engagement_id, (fingerprint, _) in open_at_history.items()
        if now.get(engagement_id) == (fingerprint, True)
    ]

    full = work / "full_refresh" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copy(db, full)
    _build(full, "--full-refresh")
    return {
        "incremental_models": _incremental_models(db),  # one `dbt ls` for the module's tests
        "db": db,
        "full": full,
        "call": call,
        "view": view,
        "ivr_event": ivr_event,
        "rethreaded": rethreaded,
        "reparented": reparented,
        "reparented_within": reparented_within,
        "late_parent": (late_parent["call_id"], late_child),
        "moved_message": moved_message,
        "corrected_answer": corrected_answer,
        "solved_ticket": solved_ticket,
        "revisited": revisited,
        "faq_visitors": faq_visitors,
        "link": (linked_call, other_ref, keys_before_link),
        "split": (keys_before_split, keys_after_split),
        "stale_identifiers": (stale_identifiers, stale_left),
        "records_kept_rebuilt": records_kept_rebuilt,
        "unblocked": (other_ref, unblocked_refs, unblocked_after),
        "marked": marked,
        "marked_texts": marked_texts,
        "compiled": compiled,
        "history_ivr_events": history_ivr_events,
        "history_customers": history_customers,
        "closed_overnight": closed_overnight,
    }


def test_every_staging_model_of_an_export_is_incremental(nightly_warehouse) -> None:
    models = [name for name in nightly_warehouse["incremental_models"] if name.startswith("stg_")]
    assert models == sorted(
        [
            "stg_chat__conversations",
            "stg_chat__messages",
            "stg_chat__tags",
            "stg_crm__customers",
            "stg_forms__answers",
            "stg_forms__submissions",
            "stg_help_center__faq_articles",
            "stg_help_center__faq_views",
            "stg_phone_system__calls",
            "stg_phone_system__ivr_events",
            "stg_phone_system__sms_messages",
            "stg_phone_system__survey_answers",
            "stg_tickets__messages",
            "stg_tickets__status_changes",
            "stg_tickets__tags",
            "stg_tickets__tickets",
        ]
    )
    # The nightly run read only the new loads: its SQL filters on the watermark.
    for name in ("stg_phone_system__calls", "stg_help_center__faq_views"):
        assert "_load_seq > (select coalesce(max(_load_seq), 0) from" in nightly_warehouse["compiled"][name]


def test_the_hierarchy_up_to_engagements_is_incremental_by_customer(nightly_warehouse) -> None:
    models = [name for name in nightly_warehouse["incremental_models"] if not name.startswith("stg_")]
    # And identity resolution (by record and by component, below), the prediction rows (incremental by input
    # fingerprint, tests/test_predictions_incremental.py) and the staffing actuals (by interval,
    # tests/test_staffing_actuals_incremental.py).
    # int_transactions_enriched is incremental by unit (macros/incremental_transactions.sql), dim_customer_identifiers
    # by customer on its records (int_customer_identity_fingerprints), mart_ivr_calls by customer on its transactions
    # and its calls' IVR events (macros/incremental_ivr.sql).
    assert models == sorted(
        [
            *HIERARCHY_BY_CUSTOMER,
            *IDENTITY,
            "dim_customer_identifiers",
            "int_faq_visits_sessionized",
            "int_ivr_node_visits",
            "int_message_sentiment",
            "int_prediction_rows",
            "int_staffing_actuals",
            "int_survey_answers_matched",
            "int_transactions_enriched",
            "mart_ivr_calls",
            *TICKETS_BY_TICKET,
        ]
    )
    # The nightly run built only the customers the model does not hold with their current fingerprint, read from the
    # table of the customers it holds (built_customers), not by grouping its rows; fct_events finds them in the
    # customers its pre-hook deleted and in that table (macros/incremental_events.sql); mart_ivr_calls groups its
    # rows.
    for name in [*HIERARCHY_BY_CUSTOMER, "dim_customer_identifiers"]:
        assert f'"{name}__built_customers" as built' in nightly_warehouse["compiled"][name]
        assert "select distinct customer_key from" not in nightly_warehouse["compiled"][name]
    assert "left join (select distinct customer_key from" in nightly_warehouse["compiled"]["mart_ivr_calls"]
    # int_message_sentiment builds the texts its pre-hook left without a row (macros/incremental_sentiment.sql).
    assert "left join (select text_id from" in nightly_warehouse["compiled"]["int_message_sentiment"]
    events = nightly_warehouse["compiled"]["fct_events"]
    assert "select customer_key from fct_events__deleted_customers" in events


def test_the_customers_a_model_holds_are_kept_beside_it(nightly_warehouse) -> None:
    """After the night (a new day, corrections, a merge, a split) and after the full refresh, each model incremental
    by customer's built_customers holds exactly the customers of its rows with the fingerprint they were built from
    (the state its pre-hook and filter read instead of grouping the model's rows)."""
    fingerprints = {name: "int_customer_fingerprints" for name in HIERARCHY_BY_CUSTOMER}
    fingerprints |= {"fct_engagements": "int_engagement_fingerprints", "fct_events": "int_engagement_fingerprints"}
    fingerprints["dim_customer_identifiers"] = "int_customer_identity_fingerprints"
    for db in (nightly_warehouse["db"], nightly_warehouse["full"]):
        with duckdb.connect(str(db), read_only=True) as con:
            for name, source in fingerprints.items():
                built = f"intermediate.{name}__built_customers"
                stored = "cast(hash(input_fingerprint) as varchar)" if name == "fct_events" else "input_fingerprint"
                held = f"select distinct customer_key, _input_fingerprint from {_schema(con, name)}.{name}"
                recorded = f"select customer_key, {stored} from {built}"
                # Every customer held is recorded with its rows' fingerprint, and every customer recorded has rows:
                # each of its transactions gives a row of every level, and an engagement. A customer may have no
                # event or no identifier: fct_events and dim_customer_identifiers record it built to nothing.
                assert con.execute(f"select count(*) from ({held} except {recorded})").fetchone() == (0,), name
                extra = f"select count(*) from ({recorded} except ({held})) as extra"
                if name in ("fct_events", "dim_customer_identifiers"):
                    extra += f" where customer_key in (select customer_key from {_schema(con, name)}.{name})"
                assert con.execute(extra).fetchone() == (0,), name
                # One row a customer, each with its customer's current fingerprint.
                assert (
                    con.execute(f"select count(*), count(distinct customer_key) from {built}").fetchone()
                    == con.execute(f"select count(*), count(*) from intermediate.{source}").fetchone()
                ), name


def test_identity_resolution_reads_new_records_and_recomputes_touched_components(nightly_warehouse) -> None:
    """The occurrences read only the staging rows of new loads; the identifiers and the components compute only the
    identifiers left without a row, and an identifier whose stored fingerprint is stale has its whole component
    recomputed (the equality test fails otherwise: the component's other rows would keep labels the run did not
    recompute)."""
    compiled = nightly_warehouse["compiled"]
    assert compiled["int_identifier_occurrences"].count("_load_seq > (select coalesce(max(_load_seq), 0) from") == 8
    assert "where identifier_node not in (select identifier_node from" in compiled["int_identifiers_classified"]
    assert "where built.identifier_node is null" in compiled["int_identity_components"]
    stale, stale_left = nightly_warehouse["stale_identifiers"]
    assert stale == 20
    assert stale_left == 0


def test_records_customers_rebuilds_only_the_records_of_recomputed_components(nightly_warehouse) -> None:
    """int_records_customers rebuilt the records of the components computed again, and kept the others' rows (the
    equality test holds them equal to a full refresh: the split, the merge and the stale components included)."""
    assert "_computed_at > (" in nightly_warehouse["compiled"]["int_records_customers"]
    kept, rebuilt = nightly_warehouse["records_kept_rebuilt"]
    assert kept > rebuilt > 0


def test_a_correction_that_removes_a_shared_e_mail_splits_the_customer(nightly_warehouse) -> None:
    """A CRM customer re-delivered without its e-mail: the record known only by that e-mail was the customer's and
    is now a customer of its own (a component split by a late correction; equal to a full refresh below)."""
    (crm_before, record_before), (crm_after, record_after) = nightly_warehouse["split"]
    assert crm_before == record_before
    assert crm_after != record_after


def test_an_unblocked_identifier_links_the_records_it_was_the_only_identifier_of(nightly_warehouse) -> None:
    """The CRM customers sharing the switchboard number lost it in the new day's export: the number is unblocked, and
    the records it was the only identifier of, not re-delivered, are no longer ambiguous but of one customer
    (int_records_customers rebuilt them: their component was computed again; equal to a full refresh below)."""
    other_ref, unblocked_refs, after = nightly_warehouse["unblocked"]
    assert other_ref not in unblocked_refs
    assert after and all(record is not None for record in after)
    assert {is_ambiguous for is_ambiguous, _ in after} == {False}
    assert len({customer_key for _, customer_key in after}) == 1


def test_a_nightly_run_rebuilds_only_the_changed_customers(nightly_warehouse) -> None:
    """Rows marked after the history build keep the mark when their customer did not change (they were not
    rebuilt), and lose it when it did; rows carrying a stale fingerprint are rebuilt."""
    marked = nightly_warehouse["marked"]
    assert marked["kept"]
    assert marked["kept_marks"] == marked["kept_interactions"]
    # No mark left on a rebuilt customer: every mark is on a kept one.
    assert marked["marks"] == marked["kept_marks"]
    assert marked["stale_left"] == 0
    # The same for engagements, of the marked customers whose windows had all ended at the history's end.
    assert marked["kept_engagement_customers"]
    assert marked["kept_engagement_marks"] == marked["kept_engagements"]
    assert marked["engagement_marks"] == marked["unchanged_engagement_marks"]
    assert marked["stale_engagements_left"] == 0


def test_windows_the_new_day_closed_were_rebuilt(nightly_warehouse) -> None:
    """Engagements of unchanged customers whose window ended during the new day are complete now, as a full build
    says (test_incremental_run_equals_a_full_refresh compares every column): fct_engagements' second pre-hook
    rebuilt them although their fingerprint did not change."""
    assert nightly_warehouse["closed_overnight"]


def test_incremental_run_equals_a_full_refresh(nightly_warehouse) -> None:
    models = nightly_warehouse["incremental_models"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        con.execute(f"attach '{nightly_warehouse['full']}' as full_refresh (read_only)")
        differences = {model: _differences(con, model) for model in models}
        counts = {
            model: con.execute(f"select count(*) from {_schema(con, model)}.{model}").fetchone()[0] for model in models
        }
    assert differences == {model: (0, 0) for model in models}
    assert set(HIERARCHY_BY_CUSTOMER) <= set(models)
    # Not a comparison of empty tables, and the increment added rows. Except the prediction rows: five days have no
    # prediction time (the first is a week after the data's start); tests/test_predictions_incremental.py compares
    # their nightly run with a full recompute on a longer history.
    assert all(counts[model] > 0 for model in models if model != "int_prediction_rows")
    assert counts["stg_phone_system__ivr_events"] > nightly_warehouse["history_ivr_events"]


def test_a_re_delivered_row_replaces_the_earlier_one(nightly_warehouse) -> None:
    call_id, resolved = nightly_warehouse["call"]
    view_id, vote = nightly_warehouse["view"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        calls = con.execute(
            "select is_resolved, _source_file from staging.stg_phone_system__calls where call_id = ?", [call_id]
        ).fetchall()
        views = con.execute(
            "select vote, _source_file from staging.stg_help_center__faq_views where view_id = ?", [view_id]
        ).fetchall()
    assert [(is_resolved, Path(file).name.endswith("_correction.csv")) for is_resolved, file in calls] == [
        (resolved == "true", True)
    ]
    assert [(served, Path(file).name.endswith("_correction.csv")) for served, file in views] == [(vote, True)]


def test_a_corrected_survey_answer_is_matched_again(nightly_warehouse) -> None:
    # int_survey_answers_matched is incremental by answer: the re-delivered answer was matched again, to the contact
    # it names now (the other answer's), with its new score. The equality with a full refresh is tested above.
    response_id, contact_id, score, other_id = nightly_warehouse["corrected_answer"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        rows = con.execute(
            "select response_id, contact_id, score, transaction_id from intermediate.int_survey_answers_matched"
            " where response_id in (?, ?) order by response_id = ?",
            [response_id, other_id, other_id],
        ).fetchall()
        # Answers the night could not change kept the row an earlier run built.
        kept = con.execute(
            "select count(*) filter (where _answers_load_seq < newest), count(*) filter (where _answers_load_seq ="
            " newest) from intermediate.int_survey_answers_matched"
            " cross join (select max(_answers_load_seq) as newest from intermediate.int_survey_answers_matched)"
        ).fetchone()
    assert [row[:3] for row in rows][0] == (response_id, contact_id, int(score))
    assert rows[0][3] is not None and rows[0][3] == rows[1][3]
    assert kept[0] > 0 and kept[1] > 0


def test_customers_merged_by_a_correction_leave_no_rows_behind(nightly_warehouse) -> None:
    """The linking correction put the call and the other CRM customer into one customer; customer keys of the
    history that no longer exist (merged into another) have no row left in any model incremental by customer."""
    call_id, other_ref, (caller_before, other_before) = nightly_warehouse["link"]
    caller_now, other_now = _customer_keys(nightly_warehouse["db"], call_id, other_ref)
    assert caller_before != other_before
    assert caller_now == other_now
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        current = set(_first_column(con, "select customer_key from intermediate.int_customer_fingerprints"))
        vanished = sorted(nightly_warehouse["history_customers"] - current)
        assert vanished
        left_behind = {
            model: con.execute(
                f"select count(*) from {_schema(con, model)}.{model} where customer_key in ?", [vanished]
            ).fetchone()[0]
            for model in [*HIERARCHY_BY_CUSTOMER, "int_message_sentiment"]
        }
    assert left_behind == {model: 0 for model in [*HIERARCHY_BY_CUSTOMER, "int_message_sentiment"]}


def test_a_corrected_event_replaces_the_earlier_one_in_fct_events(nightly_warehouse) -> None:
    call_id, node = nightly_warehouse["ivr_event"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        details = con.execute(
            "select detail from marts.fct_events where event_id = (select 'ivr:' || ivr_event_id"
            " from staging.stg_phone_system__ivr_events where call_id = ? and _source_file like '%_correction.csv')",
            [call_id],
        ).fetchall()
    assert details == [(node,)]


def test_a_corrected_ivr_node_rebuilds_its_call_in_mart_ivr_calls(nightly_warehouse) -> None:
    """mart_ivr_calls is incremental by customer: a corrected node changes the call's path, not necessarily its
    transaction, so the pre-hook also rebuilds the customers of calls with IVR events of a later load."""
    call_id, node = nightly_warehouse["ivr_event"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        path, expected = con.execute(
            "select node_path, (select string_agg(node, ' > ' order by seq) from staging.stg_phone_system__ivr_events"
            " where call_id = ? and event_type = 'menu_enter' and node is not null)"
            " from marts.mart_ivr_calls where call_id = ?",
            [call_id, call_id],
        ).fetchone()
    assert node in path.split(" > ")
    assert path == expected


def test_a_text_moved_to_another_thread_leaves_its_old_transaction_in_fct_events(nightly_warehouse) -> None:
    message_id, thread_id = nightly_warehouse["rethreaded"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        events = con.execute(
            "select transaction_id, customer_key from marts.fct_events where event_id = ?", [f"sms:{message_id}"]
        ).fetchall()
        thread_customers = _first_column(
            con,
            "select distinct customer_key from marts.fct_transactions where transaction_id like ?",
            [f"sms:{thread_id}:%"],
        )
    assert len(events) == 1
    transaction_id, customer_key = events[0]
    assert transaction_id.startswith(f"sms:{thread_id}:")
    assert customer_key in thread_customers


def test_transactions_are_rebuilt_by_unit(nightly_warehouse) -> None:
    """int_transactions_enriched kept the rows of the units the night did not touch and rebuilt the others (its
    equality with a full refresh is test_incremental_run_equals_a_full_refresh)."""
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        kept, rebuilt = con.execute(
            "select count(*) filter (where _newest_load_seq < newest),"
            " count(*) filter (where _newest_load_seq = newest) from intermediate.int_transactions_enriched"
            " cross join (select max(_newest_load_seq) as newest from intermediate.int_transactions_enriched)"
        ).fetchone()
    assert kept > rebuilt > 0


@pytest.mark.parametrize("case", ["reparented", "reparented_within"])
def test_a_re_parented_leg_moves_to_its_new_call(nightly_warehouse, case: str) -> None:
    """Its transactions now belong to the new parent's call, another customer's or its own customer's; the rows it
    had under its own call are gone (the pre-hook finds that call from the leg's stored transaction)."""
    leg, parent = nightly_warehouse[case]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        root = con.execute(
            "select root_call_id from intermediate.int_call_legs_chained where call_id = ?", [parent]
        ).fetchone()[0]
        records = _first_column(
            con,
            "select distinct record_id from intermediate.int_transactions_enriched where source_id = ?"
            " and transaction_type in ('ivr', 'call_leg')",
            [leg],
        )
        own_call = con.execute(
            "select count(*) from intermediate.int_transactions_enriched"
            " where record_id = ? and record_type = 'call_leg'",
            [leg],
        ).fetchone()[0]
    assert records == [root]
    assert own_call == 0


def test_a_parent_leg_delivered_a_day_late_takes_its_transferred_leg(nightly_warehouse) -> None:
    """The transferred leg, loaded the night before its parent, now belongs to the parent's call (the late row
    re-chains legs that were built without it)."""
    parent, child = nightly_warehouse["late_parent"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        records = _first_column(
            con,
            "select distinct record_id from intermediate.int_transactions_enriched where source_id in (?, ?)"
            " and transaction_type = 'call_leg'",
            [parent, child],
        )
    assert records == [parent]


def test_a_chat_message_moved_to_another_conversation_leaves_its_old_one(nightly_warehouse) -> None:
    """The message is one event of its new conversation's transaction and of no other (its old conversation was
    rebuilt without it)."""
    message, conversation = nightly_warehouse["moved_message"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        transactions = _first_column(
            con, "select transaction_id from marts.fct_events where event_id = ?", [f"chat:{message}"]
        )
    assert len(transactions) == 1
    assert transactions[0].endswith(f":{conversation}")


def test_a_re_exported_ticket_is_rebuilt_and_the_others_kept(nightly_warehouse) -> None:
    """The ticket re-exported solved, with a new agent reply, is rebuilt in the three models incremental by ticket (its
    equality with a full refresh is test_incremental_run_equals_a_full_refresh), and the tickets the night did not
    touch are kept."""
    ticket_id, comment_id, replied = nightly_warehouse["solved_ticket"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        kind, request = con.execute(
            "select message_kind, request_number from intermediate.int_ticket_messages_sequenced where message_id = ?",
            [comment_id],
        ).fetchone()
        solved_requests = con.execute(
            "select count(*) from intermediate.int_ticket_requests_segmented"
            " where ticket_id = ? and request_number = ? and outcome = 'solved'",
            [ticket_id, request],
        ).fetchone()[0]
        timed = con.execute(
            "select status, is_solved, strftime(solved_at, '%Y-%m-%dT%H:%M:%SZ'), first_reply_at is not null"
            " from intermediate.int_tickets_timed where ticket_id = ?",
            [ticket_id],
        ).fetchone()
        for model in TICKETS_BY_TICKET:
            schema = _schema(con, model)
            kept, rebuilt = con.execute(
                f"select count(*) filter (where _newest_load_seq < newest), count(*) filter (where"
                f" _newest_load_seq = newest) from {schema}.{model}"
                f" cross join (select max(_newest_load_seq) as newest from {schema}.{model})"
            ).fetchone()
            assert kept > rebuilt > 0, model
    assert (kind, solved_requests) == ("agent_reply", 1)
    assert timed == ("solved", True, replied, True)


def test_a_faq_view_moved_to_another_visitor_leaves_its_visit(nightly_warehouse) -> None:
    """The visit the view left (its id is its first view, which did not move) is rebuilt without it: only the view's
    earlier visitor, read from the raw table, names that visit."""
    view_id, visit_id, visitor = nightly_warehouse["revisited"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        now = con.execute(
            "select visit_id, visitor_key from intermediate.int_faq_visits_sessionized where view_id = ?", [view_id]
        ).fetchone()
        visits = _first_column(
            con,
            "select transaction_id from intermediate.int_transactions_enriched where transaction_id in (?, ?)",
            [f"faq:{visit_id}", f"faq:{now[0]}"],
        )
    assert now[1] == visitor
    assert now[0] != visit_id
    assert sorted(visits) == sorted({f"faq:{visit_id}", f"faq:{now[0]}"})


def test_faq_visits_are_rebuilt_by_visitor(nightly_warehouse) -> None:
    """int_faq_visits_sessionized rebuilt the visitors of the night's views (a re-delivered view, a view moved to
    another visitor: its earlier visitor too) and kept the rows of the visitors the night did not touch."""
    marked = nightly_warehouse["faq_visitors"]
    assert marked["touched"]
    assert marked["touched_marks"] == 0
    assert marked["early_marks"] > 0


def test_a_changed_setting_rebuilds_every_transaction(nightly_warehouse, tmp_path: Path) -> None:
    """A setting the union reads (session_gap_minutes groups the FAQ views into visits) changes transactions that no
    new row names: the nightly run sees it in _global_inputs and rebuilds every row, equal to a full refresh with the
    same setting."""
    night, full = tmp_path / "night" / "warehouse.duckdb", tmp_path / "full" / "warehouse.duckdb"
    for path in (night, full):
        path.parent.mkdir()
        shutil.copy(nightly_warehouse["db"], path)
    setting = ["--vars", "{engagement_window_days: 2, session_gap_minutes: 0}"]
    models = ["-s", "int_faq_visits_sessionized", "int_transactions_enriched"]
    run_dbt(["run", *models, *setting], night)
    run_dbt(["run", *models, *setting, "--full-refresh"], full)
    with duckdb.connect(str(night), read_only=True) as con:
        con.execute(f"attach '{full}' as full_refresh (read_only)")
        con.execute(f"attach '{nightly_warehouse['db']}' as before (read_only)")
        differences = _differences(con, "int_transactions_enriched")
        assert _differences(con, "int_faq_visits_sessionized") == (0, 0)
        # No gap: every view is a visit of its own, so the visits of several views split.
        regrouped = con.execute(
            "select count(*) from (select transaction_id from intermediate.int_transactions_enriched"
            " except select transaction_id from before.intermediate.int_transactions_enriched)"
        ).fetchone()[0]
    assert differences == (0, 0)
    assert regrouped > 0


def test_message_sentiment_keeps_the_texts_of_unchanged_customers(nightly_warehouse) -> None:
    """int_message_sentiment kept every text, not re-delivered, of the marked customers whose engagement fingerprint
    did not change (still marked), rebuilt those of the customers whose fingerprint changed or was stale (no mark, no
    stale fingerprint left); its equality with a full refresh is test_incremental_run_equals_a_full_refresh."""
    texts = nightly_warehouse["marked_texts"]
    assert texts["kept"] and texts["kept_texts"] > 0
    assert texts["kept_marks"] == texts["kept_texts"]
    assert texts["changed_marks"] == 0
    assert texts["stale_left"] == 0 and texts["stale_rebuilt"] > 0


@pytest.mark.parametrize(("case", "prefix"), [("moved_message", "chat:"), ("rethreaded", "sms:")])
def test_a_moved_text_follows_its_new_transaction_in_message_sentiment(
    nightly_warehouse, case: str, prefix: str
) -> None:
    """The chat message moved to another conversation and the text moved to another thread (late corrections): their
    row in int_message_sentiment (one if the text is scored: a customer's or agent's message, an inbound text) names
    the transaction and customer fct_events gives them now."""
    message_id, _ = nightly_warehouse[case]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        scored = (
            con.execute(
                "select count(*) from staging.stg_chat__messages where ? = 'chat:' and message_id = ?"
                " and author in ('customer', 'agent') and message_text_sentiment is not null",
                [prefix, message_id],
            ).fetchone()[0]
            + con.execute(
                "select count(*) from staging.stg_phone_system__sms_messages where ? = 'sms:' and message_id = ?"
                " and direction = 'inbound' and body_sentiment is not null",
                [prefix, message_id],
            ).fetchone()[0]
        )
        rows = con.execute(
            "select texts.transaction_id, texts.customer_key, events.transaction_id, events.customer_key"
            " from intermediate.int_message_sentiment as texts"
            " inner join marts.fct_events as events on texts.text_id = events.event_id where texts.text_id = ?",
            [f"{prefix}{message_id}"],
        ).fetchall()
    assert len(rows) == scored
    assert all(row[:2] == row[2:] for row in rows)


def test_ivr_node_visits_rebuild_the_calls_with_new_events(nightly_warehouse) -> None:
    """int_ivr_node_visits is incremental by call: the call whose IVR node was corrected has its visits built again
    from its current menus (the corrected node among them), the calls of the history without new events kept the rows
    an earlier run built (an older _load_seq); its equality with a full refresh is
    test_incremental_run_equals_a_full_refresh."""
    call_id, node = nightly_warehouse["ivr_event"]
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        visits = con.execute(
            "select ivr_event_id, node from intermediate.int_ivr_node_visits where call_id = ? order by ivr_event_id",
            [call_id],
        ).fetchall()
        menus = con.execute(
            "select ivr_event_id, node from staging.stg_phone_system__ivr_events where call_id = ?"
            " and event_type = 'menu_enter' and node is not null order by ivr_event_id",
            [call_id],
        ).fetchall()
        kept, rebuilt = con.execute(
            "select count(*) filter (where _load_seq < newest), count(*) filter (where _load_seq = newest)"
            " from intermediate.int_ivr_node_visits"
            " cross join (select max(_load_seq) as newest from intermediate.int_ivr_node_visits)"
        ).fetchone()
    assert visits == menus
    assert kept > rebuilt > 0
