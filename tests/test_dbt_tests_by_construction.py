"""Data tests left out because the model's SQL and its ancestors' tests already prove them (DECISIONS.md
"fct_events' key and parents are proven by construction" and "The identifier occurrences' key is proven by
construction", issue 22), and a data test restricted to the rows a run rebuilt ("The identity convergence test reads
the records a run rebuilt"), shown to fail on a bad row a run writes. Each proof rests on premises in the project:
the tests of the sources, the enforced not-null constraints, the shape of the model's SQL. These tests fail when a
premise goes, so that the data test comes back (or the proof is made again) instead of the rule silently lapsing.
Read from the source files, no build."""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import jinja2
import pytest
import yaml

from contact_warehouse.settings import DBT_PROJECT_DIR

MODELS = DBT_PROJECT_DIR / "models"
FCT_EVENTS_SQL = MODELS / "marts" / "hierarchy" / "fct_events.sql"
IDENTITY = MODELS / "intermediate" / "identity"
IDENTITY_MACROS = DBT_PROJECT_DIR / "macros" / "incremental_identity.sql"
CONVERGED_SQL = DBT_PROJECT_DIR / "tests" / "singular" / "assert_identity_components_converged.sql"

# fct_events.event_id: each source's prefix, and the model and column whose `unique` test makes the ids unique
# within the source (int_call_legs_chained, int_faq_visits_sessionized and int_ticket_messages_sequenced keep one
# row per staging key: DECISIONS.md "A test that an ancestor's test already implies is removed").
EVENT_ID_SOURCES = {
    "'ivr:' || ivr_event_id": ("stg_phone_system__ivr_events", "ivr_event_id"),
    "'call:' || call_id || ':queued'": ("stg_phone_system__calls", "call_id"),
    "'sms:' || message_id": ("stg_phone_system__sms_messages", "message_id"),
    "'chat:' || messages.message_id": ("stg_chat__messages", "message_id"),
    "'faq:' || view_id": ("stg_help_center__faq_views", "view_id"),
    "'form:' || response_id": ("stg_forms__submissions", "response_id"),
    "'ticket_message:' || message_id": ("stg_tickets__messages", "message_id"),
    "'ticket_status:' || changes.status_change_id": ("stg_tickets__status_changes", "status_change_id"),
    "'survey:' || response_id": ("fct_survey_answers", "response_id"),
}


def _models() -> dict[str, dict]:
    """Every model documented in a `_*__models.yml`, by name."""
    models: dict[str, dict] = {}
    for path in sorted(MODELS.rglob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models") or []:
            models[model["name"]] = model
    return models


def _column(models: dict[str, dict], model: str, column: str) -> dict:
    columns = {entry["name"]: entry for entry in models[model].get("columns") or []}
    assert column in columns, f"{model}.{column} is not documented"
    return columns[column]


def _test_names(entry: dict) -> list[str]:
    """The generic tests' names on a column (`unique`, `relationships`, ...)."""
    names = []
    for test in entry.get("data_tests") or entry.get("tests") or []:
        names.append(test if isinstance(test, str) else next(iter(test)))
    return names


def _relationships(entry: dict) -> list[tuple[str, str]]:
    found = []
    for test in entry.get("data_tests") or entry.get("tests") or []:
        if isinstance(test, dict) and "relationships" in test:
            arguments = test["relationships"].get("arguments", test["relationships"])
            found.append((arguments["to"], arguments["field"]))
    return found


def _not_null_constraint(entry: dict) -> bool:
    return any(constraint.get("type") == "not_null" for constraint in entry.get("constraints") or [])


def _sql() -> str:
    return re.sub(r"\s+", " ", FCT_EVENTS_SQL.read_text(encoding="utf-8"))


def test_fct_events_ids_are_the_sources_tested_keys_behind_distinct_prefixes() -> None:
    """unique(fct_events.event_id) is proven: every source's ids are unique (tested), each source has its own
    prefix that is no other's prefix, and a call's milestones differ by suffixes none of which ends another."""
    models, sql = _models(), _sql()
    for expression, (model, column) in EVENT_ID_SOURCES.items():
        assert expression in sql, f"fct_events no longer builds an event_id as {expression}: prove unique again"
        assert "unique" in _test_names(_column(models, model, column)), f"{model}.{column} lost its unique test"
    prefixes = [expression.split("'")[1] for expression in EVENT_ID_SOURCES]
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)], prefixes
    suffixes = re.findall(r"call_id \|\| '(:[a-z]+)'", sql)
    assert sorted(suffixes) == [":answered", ":ended", ":queued", ":transferred"], suffixes
    assert not [(a, b) for a in suffixes for b in suffixes if a != b and b.endswith(a)], suffixes
    # One row per source row: the last join is on fct_transactions' unique key, and the one-row-per-transaction
    # rule of fct_transactions is int_transactions_enriched's unique test.
    assert "from unioned left join transactions on unioned.transaction_id = transactions.transaction_id" in sql
    assert "unique" in _test_names(_column(models, "int_transactions_enriched", "transaction_id"))
    assert "unique" not in _test_names(_column(models, "fct_events", "event_id")), "restored: drop this proof"


def test_fct_events_customer_comes_only_from_its_transaction() -> None:
    """relationships(fct_events.transaction_id -> fct_transactions) and (customer_key -> dim_customers) are proven:
    customer_key is not null (a contract constraint, enforced on DuckDB: the build fails on a NULL) and is only
    ever the joined transaction's, so every event's transaction was in fct_transactions, and its customer is one
    that fct_transactions' own relationships test holds in dim_customers."""
    models, sql = _models(), _sql()
    events = {column: _column(models, "fct_events", column) for column in ("transaction_id", "customer_key")}
    assert all(_not_null_constraint(entry) for entry in events.values())
    assert models["fct_events"].get("config", {}).get("contract", {}).get("enforced", True) is not False
    assert "unioned.transaction_id, transactions.customer_key, unioned.detail" in sql
    assert "select transactions.transaction_id," in sql and "from {{ ref('fct_transactions') }} as transactions" in sql
    assert ("ref('dim_customers')", "customer_key") in _relationships(
        _column(models, "fct_transactions", "customer_key")
    )
    assert not any(_relationships(entry) for entry in events.values()), "restored: drop this proof"


def test_the_marts_contract_is_enforced_on_the_hierarchy() -> None:
    """The not-null constraints are what the proofs above rest on: the marts' contract is enforced per folder."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    marts = project["models"]["contact_warehouse"]["marts"]
    assert marts["+contract"]["enforced"] == "{{ target.type == 'duckdb' }}"
    assert "+contract" not in (marts.get("hierarchy") or {})


def _flat(path) -> str:
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


def _identity_records() -> dict[str, tuple[str, str]]:
    """identity_records(): record_type -> (staging model, key column)."""
    found = re.findall(r"\('(\w+)', '(stg_\w+)', '(\w+)'\)", _flat(IDENTITY_MACROS))
    return {record_type: (model, key) for record_type, model, key in found}


def test_identifier_occurrences_key_is_one_staging_row_per_record_and_one_row_per_identifier_type() -> None:
    """unique(int_identifier_occurrences: record_type, record_id, identifier_node) is proven: each record type is read
    from one staging model by its key, which a `unique` test holds; each select of a record type takes another
    identifier type from the same staging row; identifier_node is the keyed hash of `<identifier_type>:<value>`, so
    two identifier types never share a node; the final `select distinct` folds nothing else (every other column is the
    staging row's). A nightly run appends the rows of the records of its new loads after the pre-hook deleted every
    row of those records (tests/test_incremental.py holds the table equal to a full build)."""
    models, sql, records = _models(), _flat(IDENTITY / "int_identifier_occurrences.sql"), _identity_records()
    assert len(records) == 8, records
    # Every staging model is read once, in a CTE of its new loads, and its key holds a unique test.
    sources = dict(
        re.findall(r"(\w+)_new as \( select \*, .*? from \{\{ ref\('(\w+)'\) \}\} \{\{ new_loads_only\(\) \}\} \)", sql)
    )
    assert sorted(sources.values()) == sorted(model for model, _ in records.values()), sources
    for model, key in records.values():
        assert "unique" in _test_names(_column(models, model, key)), f"{model}.{key} lost its unique test"
    # Every select: (record type, record id, identifier type) from one staging CTE.
    pattern = r"select '(\w+)'(?: as record_type)?, (\w+)(?: as record_id)?, '(\w+)'(?: as identifier_type)?, "
    selects = re.findall(pattern + r".*? from (\w+)_new\b", sql)
    # One match per read of a staging CTE: no select of another shape hides between two matches.
    assert len(selects) == len(re.findall(r" from \w+_new\b", sql)) == 21, selects
    types_by_record: dict[str, list[str]] = {}
    for record_type, record_id, identifier_type, cte in selects:
        model, key = records[record_type]
        assert (sources[cte], record_id) == (model, key), (record_type, cte, record_id)
        types_by_record.setdefault(record_type, []).append(identifier_type)
    assert set(types_by_record) == set(records)
    assert all(len(types) == len(set(types)) for types in types_by_record.values()), types_by_record
    assert sql.rstrip().endswith(
        "select distinct record_type, record_id, identifier_type, identifier_node, case when identifier_type = "
        "'customer_ref' then identifier_value end as customer_ref, _load_seq, _record_identifiers from present"
    )
    # The node is the keyed hash of the type and the value (the loader computes it).
    columns = (DBT_PROJECT_DIR.parent / "contact_warehouse" / "enrichment" / "columns.py").read_text(encoding="utf-8")
    assert 'return pii_hash(f"{identifier_type}:{value}", self.key)' in columns
    # Nightly: append after deleting the re-delivered records' rows.
    assert "incremental_strategy='append', pre_hook=\"{{ delete_redelivered_records() }}\"" in sql
    macros = _flat(IDENTITY_MACROS)
    assert (
        "where redelivered.record_type = {{ this }}.record_type and redelivered.record_id = {{ this }}.record_id"
        in macros
    )
    occurrences = models["int_identifier_occurrences"]
    assert not [t for t in occurrences.get("data_tests") or [] if "unique" in t], "restored: drop this proof"


def test_the_convergence_test_reads_every_record_a_run_rebuilt() -> None:
    """The convergence test reads the records of int_records_customers built from the latest components or with the
    newest load. That covers every record carrying an identifier of a component the latest run computed: the run
    marks what it computed (_computed_at), int_records_customers rebuilds the records of the components computed
    after its newest row and stores the newest _computed_at of their components and the newest load."""
    components, records = _flat(IDENTITY / "int_identity_components.sql"), _flat(IDENTITY / "int_records_customers.sql")
    macros, test = _flat(IDENTITY_MACROS), _flat(CONVERGED_SQL)
    assert "{{ identity_run_marker() }} as _computed_at" in components
    assert "components._computed_at > ( select coalesce(max(_components_computed_at)," in macros
    assert "max(components._computed_at) as _components_computed_at" in records
    assert "select max(_load_seq) as load_seq from {{ ref('int_identifier_occurrences') }}" in records
    assert "newest_load.load_seq as _newest_load_seq from per_record cross join newest_load" in records
    assert (
        "records._components_computed_at = (select max(_computed_at) from {{ ref('int_identity_components') }}) "
        "or records._newest_load_seq = (select max(_newest_load_seq) from {{ ref('int_records_customers') }})"
    ) in test
    assert (
        "from ( select distinct occurrences.record_type, occurrences.record_id, occurrences.identifier_node from "
        "{{ ref('int_identifier_occurrences') }} as occurrences inner join records_checked on "
        "occurrences.record_type = records_checked.record_type and occurrences.record_id = records_checked.record_id "
        ") as occurrences inner join {{ ref('int_identifiers_classified') }}"
    ) in test


def _run_converged_test(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    sql = jinja2.Template(CONVERGED_SQL.read_text(encoding="utf-8")).render(ref=lambda name: name)
    return sorted(con.execute(sql).fetchall())


EARLIER, NIGHT = datetime(2026, 12, 1, 1, 0), datetime(2026, 12, 2, 1, 0)


def _identity_tables(records: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A warehouse of the four tables the test reads. `records`: (record, [(identifier, label, computed_at)],
    components_computed_at, newest_load_seq) with record None for an identifier that no record rebuilt carries."""
    con = duckdb.connect()
    con.execute(
        "create table int_identifier_occurrences (record_type varchar, record_id varchar, identifier_node varchar)"
    )
    con.execute("create table int_identifiers_classified (identifier_node varchar, is_blocked boolean)")
    con.execute(
        "create table int_identity_components "
        "(identifier_node varchar, component_label varchar, _computed_at timestamp)"
    )
    con.execute(
        "create table int_records_customers (record_type varchar, record_id varchar, "
        "_components_computed_at timestamp, _newest_load_seq integer)"
    )
    seen = set()
    for record, identifiers, components_computed_at, newest_load in records:
        con.execute(
            "insert into int_records_customers values ('call_leg', ?, ?, ?)",
            [record, components_computed_at, newest_load],
        )
        for identifier, label, computed_at in identifiers:
            con.execute("insert into int_identifier_occurrences values ('call_leg', ?, ?)", [record, identifier])
            if identifier not in seen:
                seen.add(identifier)
                con.execute("insert into int_identifiers_classified values (?, ?)", [identifier, label == "blocked"])
                con.execute(
                    "insert into int_identity_components values (?, ?, ?)",
                    [identifier, identifier if label == "blocked" else label, computed_at],
                )
    return con


def test_the_convergence_test_fails_on_a_record_split_by_a_full_build() -> None:
    con = _identity_tables(
        [
            ("r1", [("a", "a", NIGHT), ("b", "a", NIGHT)], NIGHT, 10),
            ("r2", [("c", "c", NIGHT), ("d", "d", NIGHT)], NIGHT, 10),  # split: too few hops
            ("r3", [("e", "e", NIGHT), ("s", "blocked", NIGHT)], NIGHT, 10),  # a blocked identifier links nothing
        ]
    )
    assert _run_converged_test(con) == [("call_leg", "r2", 2)]


@pytest.mark.parametrize(
    ("bad_record", "expected"),
    [
        # The night computed both components of the record and rebuilt it.
        (("r9", [("x", "x", NIGHT), ("y", "y", NIGHT)], NIGHT, 11), [("call_leg", "r9", 2)]),
        # The night computed one component and kept the other (an incremental bug cutting a link): rebuilt, caught.
        (("r9", [("x", "x", NIGHT), ("a", "a", EARLIER)], NIGHT, 11), [("call_leg", "r9", 2)]),
        # An earlier night computed its components but its int_records_customers failed: rebuilt tonight with the
        # newest load, caught although its components are not the latest run's.
        (("r9", [("x", "x", EARLIER), ("y", "y", EARLIER)], EARLIER, 11), [("call_leg", "r9", 2)]),
        # Kept since an earlier run, whose build checked it: not read again.
        (("r9", [("x", "x", EARLIER), ("y", "y", EARLIER)], EARLIER, 10), []),
    ],
)
def test_the_convergence_test_fails_on_a_bad_record_a_night_writes(bad_record: tuple, expected: list) -> None:
    con = _identity_tables(
        [
            ("r1", [("a", "a", EARLIER), ("b", "a", EARLIER)], EARLIER, 10),
            ("r2", [("c", "c", NIGHT), ("d", "c", NIGHT)], NIGHT, 11),
            bad_record,
        ]
    )
    assert _run_converged_test(con) == expected


# int_contact_codes: per source CTE, its (record_type, code_type), the record id and position it selects, the staging
# model it reads, and the tested id of that model which is a function of (record id, position) (DECISIONS.md "The
# contact codes' key is proven by construction").
CONTACT_CODE_SOURCES = {
    "ivr": (
        "'ivr' as record_type, call_id as record_id, 'ivr_node' as code_type, lower(node) as code, "
        "event_at as seen_at, seq as code_position from {{ ref('stg_phone_system__ivr_events') }}",
        ("stg_phone_system__ivr_events", "ivr_event_id"),
    ),
    "dispositions": (
        "'call_leg' as record_type, call_id as record_id, 'call_disposition' as code_type, lower(disposition) as "
        "code, coalesce(answered_at, started_at) as seen_at, 0 as code_position from "
        "{{ ref('stg_phone_system__calls') }}",
        ("stg_phone_system__calls", "call_id"),
    ),
    "bot_intents": (
        "'chat' as record_type, conversation_id as record_id, 'chat_bot_intent' as code_type, lower(bot_intent) as "
        "code, created_at as seen_at, 0 as code_position from {{ ref('stg_chat__conversations') }}",
        ("stg_chat__conversations", "conversation_id"),
    ),
    "chat_tags": (
        "'chat' as record_type, tags.conversation_id as record_id, 'chat_tag' as code_type, lower(tags.tag) as code, "
        "conversations.created_at as seen_at, 1 + tags.tag_index as code_position from {{ ref('stg_chat__tags') }} "
        "as tags inner join {{ ref('stg_chat__conversations') }} as conversations on tags.conversation_id = "
        "conversations.conversation_id )",
        ("stg_chat__tags", "conversation_tag_id"),
    ),
    "faq_articles": (
        "'faq_view' as record_type, view_id as record_id, 'faq_article' as code_type, lower(article_id) as code, "
        "viewed_at as seen_at, 0 as code_position from {{ ref('stg_help_center__faq_views') }} )",
        ("stg_help_center__faq_views", "view_id"),
    ),
    "form_topics": (
        "'form' as record_type, response_id as record_id, 'form_topic' as code_type, lower(topic) as code, "
        "submitted_at as seen_at, 0 as code_position from {{ ref('stg_forms__submissions') }}",
        ("stg_forms__submissions", "response_id"),
    ),
    "ticket_tags": (
        "'ticket' as record_type, tags.ticket_id as record_id, 'ticket_tag' as code_type, lower(tags.tag) as code, "
        "tickets.created_at as seen_at, tags.tag_index as code_position from {{ ref('stg_tickets__tags') }} as tags "
        "inner join {{ ref('stg_tickets__tickets') }} as tickets on tags.ticket_id = tickets.ticket_id )",
        ("stg_tickets__tags", "ticket_tag_id"),
    ),
}

# The staging ids that are a function of (record id, position): equal pairs give equal ids, so a unique id makes the
# pair unique. The position is the integer cast of a column the loader types as an integer (injective).
STAGING_PAIR_IDS = {
    "phone_system/stg_phone_system__ivr_events.sql": (
        "call_id || '-' || cast(seq as {{ dbt.type_string() }}) as ivr_event_id, call_id, cast(seq as integer) as seq,",
        '_cols("call_id!", "seq:integer!"',
    ),
    "chat/stg_chat__tags.sql": (
        "conversation_id || '-' || cast(tag_index as {{ dbt.type_string() }}) as conversation_tag_id, "
        "conversation_id, cast(tag_index as integer) as tag_index,",
        '_cols("conversation_id!", "tag_index:integer!"',
    ),
    "tickets/stg_tickets__tags.sql": (
        "ticket_id || '-' || cast(tag_index as {{ dbt.type_string() }}) as ticket_tag_id, ticket_id, "
        "cast(tag_index as integer) as tag_index,",
        '_cols("ticket_id!", "tag_index:integer!"',
    ),
}


def test_contact_codes_key_is_each_sources_tested_key() -> None:
    """unique(int_contact_codes: record_type, record_id, code_type, code_position) is proven: every source CTE has
    its own (record_type, code_type); within one, (record_id, code_position) is a staging row's key, tested unique
    through an id that is a function of it, and the joins to a parent are on its unique key; the intent's left join
    is on (code_type, code), which int_intent_codes' unique id is a function of; the non-intent codes' left join keeps
    only the rows it did not match, once each."""
    models = _models()
    sql = _flat(MODELS / "intermediate" / "knowledge_base" / "int_contact_codes.sql")
    pairs = set()
    for cte, (body, (model, column)) in CONTACT_CODE_SOURCES.items():
        assert f"{cte} as ( select {body}" in sql, f"int_contact_codes' {cte} changed: prove its key again"
        assert "unique" in _test_names(_column(models, model, column)), f"{model}.{column} lost its unique test"
        pairs.add(tuple(re.findall(r"'(\w+)' as (?:record|code)_type", body)))
    assert len(pairs) == len(CONTACT_CODE_SOURCES) and all(len(pair) == 2 for pair in pairs), pairs
    for parent, key in (("stg_chat__conversations", "conversation_id"), ("stg_tickets__tickets", "ticket_id")):
        assert "unique" in _test_names(_column(models, parent, key)), f"{parent}.{key} lost its unique test"
    unions = re.search(r"unioned as \( (.*?) \)", sql).group(1)
    assert unions == "select * from " + " union all select * from ".join(CONTACT_CODE_SOURCES), unions
    assert (
        "from unioned left join {{ ref('int_intent_codes') }} as intent_codes on unioned.code_type = "
        "intent_codes.code_type and unioned.code = intent_codes.code left join non_intent_codes on "
        "unioned.code_type = non_intent_codes.code_type and unioned.code = non_intent_codes.code "
        "where non_intent_codes.code is null"
    ) in sql
    intent_codes = _flat(MODELS / "intermediate" / "knowledge_base" / "int_intent_codes.sql")
    assert "select codes.code_type || ':' || codes.code as intent_code_id, codes.code_type, codes.code," in intent_codes
    assert "unique" in _test_names(_column(models, "int_intent_codes", "intent_code_id"))
    sources = (DBT_PROJECT_DIR.parent / "contact_warehouse" / "loading" / "sources.py").read_text(encoding="utf-8")
    for path, (columns, typed) in STAGING_PAIR_IDS.items():
        assert columns in _flat(MODELS / "staging" / path), f"{path} changed its id: prove int_contact_codes again"
        assert typed in sources
    assert not [t for t in models["int_contact_codes"].get("data_tests") or [] if "unique" in t], "restored"


HIERARCHY = MODELS / "intermediate" / "hierarchy"
MARTS = MODELS / "marts" / "hierarchy"


def _code(path) -> str:
    """The SQL without its line comments, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8")))


def _after(sql: str, marker: str) -> str:
    assert marker in sql, marker
    return sql[sql.index(marker) + len(marker) :]


def test_every_transaction_s_interaction_is_in_fct_interactions() -> None:
    """relationships(fct_transactions.interaction_id -> fct_interactions) is proven: fct_transactions passes through
    int_interactions_sessionized's interaction_id, without a filter but the customers to rebuild; for the same
    customers (the same fingerprints) int_interactions_summarized flags those rows (window functions only), groups
    them by interaction_id and keeps every group (left joins only), int_engagements_windowed keeps every row (window
    functions only) and fct_interactions passes them through. A full build has no customer filter; a nightly run's
    tables equal a full build's (tests/test_incremental.py)."""
    models = _models()
    transactions = _code(MARTS / "fct_transactions.sql")
    assert "select transactions.transaction_id, transactions.transaction_type," in transactions
    assert " transactions.interaction_id, transactions.customer_key," in transactions
    assert transactions.rstrip().endswith(
        "from {{ ref('int_interactions_sessionized') }} as transactions left join "
        "{{ ref('int_interactions_summarized') }} as interactions on transactions.interaction_id = "
        "interactions.interaction_id {{ customers_to_rebuild('transactions.customer_key') }}"
    )
    summarized = _code(HIERARCHY / "int_interactions_summarized.sql")
    classified = _after(summarized, "with classified as ( select *, ")
    classified = classified[: classified.index(" ),")]
    assert (
        classified.endswith("from {{ ref('int_interactions_sessionized') }} {{ customers_to_rebuild('customer_key') }}")
        and " where " not in classified
        and " join " not in classified
    )
    transactions_cte = _after(summarized, "transactions as ( select *, ")
    transactions_cte = transactions_cte[: transactions_cte.index(" ),")]
    assert transactions_cte.endswith(" from classified") and " where " not in transactions_cte
    assert re.search(
        r"summarized as \( select interaction_id, .*? from transactions group by interaction_id \)", summarized
    )
    final = _after(summarized, "select summarized.interaction_id,")
    assert " from summarized left join " in final and " where " not in final and " inner join " not in final
    windowed = _code(HIERARCHY / "int_engagements_windowed.sql")
    body = _after(
        windowed,
        "with interactions as ( select * from {{ ref('int_interactions_summarized') }} "
        "{{ customers_to_rebuild('customer_key') }} ),",
    )
    assert " where " not in body and " join " not in body and body.rstrip().endswith("from numbered")
    interactions = _code(MARTS / "fct_interactions.sql")
    assert "select interaction_id, engagement_id, customer_key," in interactions
    assert interactions.rstrip().endswith(
        "from {{ ref('int_engagements_windowed') }} {{ customers_to_rebuild('customer_key') }}"
    )
    assert not _relationships(_column(models, "fct_transactions", "interaction_id")), "restored: drop this proof"


def test_every_interaction_s_engagement_is_in_fct_engagements() -> None:
    """relationships(fct_interactions.engagement_id -> fct_engagements) is proven: fct_interactions passes through
    int_engagements_windowed's engagement_id; fct_engagements groups int_engagements_windowed by engagement_id (its
    customers to rebuild, a superset of fct_interactions': the engagement fingerprint holds the customer's) and keeps
    every group: a window over the groups, a cross join with the data's end (one row: an aggregate without a group),
    then left joins."""
    models = _models()
    engagements = _code(MARTS / "fct_engagements.sql")
    assert (
        "with interactions as ( select * from {{ ref('int_engagements_windowed') }} "
        "{{ customers_to_rebuild('customer_key', 'int_engagement_fingerprints') }} ),"
    ) in engagements
    assert re.search(
        r"aggregated as \( select engagement_id, .*? from interactions group by engagement_id \)", engagements
    )
    with_next = _after(engagements, "with_next as (")
    assert re.match(r" select aggregated\.\*, .*? from aggregated \) select ", with_next) and " where " not in with_next
    assert " from with_next cross join data_window left join surveys on " in with_next
    assert "data_window as ( {{ data_end() }} )" in engagements
    macros = _flat(DBT_PROJECT_DIR / "macros" / "incremental_customers.sql")
    assert "select max(ended_at) as data_end_at from {{ ref('int_transactions_enriched') }} {%- endmacro %}" in macros
    fingerprints = _code(HIERARCHY / "int_engagement_fingerprints.sql")
    assert "{{ dbt.concat([ 'customers.input_fingerprint'," in fingerprints
    interactions = _code(MARTS / "fct_interactions.sql")
    assert "select interaction_id, engagement_id, customer_key," in interactions
    assert not _relationships(_column(models, "fct_interactions", "engagement_id")), "restored: drop this proof"


def test_the_sentiment_models_point_to_proven_or_tested_transactions_and_interactions() -> None:
    """relationships(int_message_sentiment.transaction_id -> fct_transactions, .interaction_id -> fct_interactions)
    and (int_interaction_sentiment.interaction_id -> fct_interactions) are proven: a text's transaction is fct_events'
    transaction_id (proven in fct_transactions above) or fct_survey_answers' (tested), its interaction fct_transactions'
    interaction_id (proven in fct_interactions above) or fct_survey_answers' (tested); int_interaction_sentiment
    groups int_message_sentiment's interactions. int_interaction_sentiment is a table rebuilt on every run;
    int_message_sentiment is incremental by text, judged by customer: a row it keeps was built from the same
    fct_events, fct_transactions and fct_survey_answers rows as tonight's (its customer's int_engagement_fingerprints,
    which hashes them, did not change; a row no fingerprint covers is built again), so it still points to rows of
    those tables (tests/test_incremental.py holds it equal to a full build)."""
    models = _models()
    sentiment = MODELS / "intermediate" / "sentiment"
    message = _code(sentiment / "int_message_sentiment.sql")
    assert 'pre_hook="{{ delete_changed_sentiment_texts() }}"' in message
    assert (
        "message_transactions as ( select event_id, transaction_id from {{ ref('fct_events') }} "
        "where channel in ('chat', 'sms')"
    ) in message
    assert (
        "transactions as ( select transaction_id, interaction_id, customer_key from {{ ref('fct_transactions') }}"
        in message
    )
    assert (
        "survey_answers as ( select response_id, transaction_id, interaction_id, engagement_id, customer_key from "
        "{{ ref('fct_survey_answers') }}"
    ) in message
    assert (
        "coalesce(message_transactions.transaction_id, survey_answers.transaction_id) as transaction_id, "
        "coalesce(transactions.interaction_id, survey_answers.interaction_id) as interaction_id,"
    ) in message
    assert "left join transactions on message_transactions.transaction_id = transactions.transaction_id" in message
    for column, parent in (("transaction_id", "fct_transactions"), ("interaction_id", "fct_interactions")):
        assert (f"ref('{parent}')", column) in _relationships(_column(models, "fct_survey_answers", column))
    # fct_events' transactions and fct_transactions' interactions are proven by the tests above (or tested again).
    interaction = _code(sentiment / "int_interaction_sentiment.sql")
    assert (
        "with customer_texts as ( select * from {{ ref('int_message_sentiment') }} "
        "where is_customer_text and interaction_id is not null ),"
    ) in interaction
    assert "from customer_texts group by interaction_id )" in interaction
    assert interaction.rstrip().endswith("from averaged")
    assert "select *, cast(compound_sum as {{ type_double() }}) / customer_texts as mean_compound from summarized" in (
        interaction
    )
    for model, column in (
        ("int_message_sentiment", "transaction_id"),
        ("int_message_sentiment", "interaction_id"),
        ("int_interaction_sentiment", "interaction_id"),
    ):
        assert not _relationships(_column(models, model, column)), f"{model}.{column} restored: drop this proof"


def test_ivr_node_visits_are_one_row_per_staging_ivr_event() -> None:
    """unique(int_ivr_node_visits.ivr_event_id) is proven: the visits are staging's IVR events (whose ivr_event_id has
    a unique test) filtered, joined to one row per call (last_events groups by call_id); a nightly run deletes the
    calls with new events before it builds them (the same macro in the pre-hook and the model), and the calls the
    model adds by the lower watermark after the delete have no row (DECISIONS.md "int_ivr_node_visits incremental by
    call"). tests/test_incremental.py holds the nightly table equal to a full build."""
    models = _models()
    visits = _code(MODELS / "intermediate" / "contacts" / "int_ivr_node_visits.sql")
    assert "with events as ( select * from {{ ref('stg_phone_system__ivr_events') }}" in visits
    assert "where call_id in ({{ ivr_calls_with_new_events() }})" in visits
    assert "last_events as ( select call_id, max(event_at) as last_event_at, max(_load_seq) as _load_seq" in visits
    assert "from events group by call_id )" in visits
    assert "menus as ( select ivr_event_id, call_id," in visits
    assert visits.rstrip().endswith("from menus inner join last_events on menus.call_id = last_events.call_id")
    assert 'pre_hook="{{ delete_ivr_calls_with_new_events() }}"' in visits
    macros = _code(MODELS.parent / "macros" / "incremental_ivr.sql")
    assert "delete from {{ this }} where call_id in ({{ ivr_calls_with_new_events() }})" in macros
    assert "unique" in _test_names(_column(models, "stg_phone_system__ivr_events", "ivr_event_id"))
    assert "unique" not in _test_names(_column(models, "int_ivr_node_visits", "ivr_event_id")), "restored: drop this"
