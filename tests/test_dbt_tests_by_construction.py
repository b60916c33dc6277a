"""Data tests left out because the model's SQL and its ancestors' tests already prove them (DECISIONS.md
"fct_events' key and parents are proven by construction", issue 22). Each proof rests on premises in the project:
the tests of the sources, the enforced not-null constraints, the shape of the model's SQL. These tests fail when a
premise goes, so that the data test comes back (or the proof is made again) instead of the rule silently lapsing.
Read from the source files, no build."""

from __future__ import annotations

import re

import yaml

from contact_warehouse.settings import DBT_PROJECT_DIR

MODELS = DBT_PROJECT_DIR / "models"
FCT_EVENTS_SQL = MODELS / "marts" / "hierarchy" / "fct_events.sql"

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
