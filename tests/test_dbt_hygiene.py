"""The dbt project's house rules that dbt itself does not enforce, read from the source files (no build):
every var is declared once in dbt_project.yml, YAML is hand-written (no anchors), contracts are set per folder."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from contact_warehouse.settings import DBT_PROJECT_DIR

# Folders dbt reads SQL and YAML from (dbt_project.yml's model-, macro- and test-paths).
SOURCE_DIRS = ("models", "macros", "tests")
# `var('name')` or `var("name", default)`: the name, and whether a default follows.
# libyaml when installed: the scan reads every YAML file event by event.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
VAR_CALL = re.compile(r"""\bvar\(\s*['"]([A-Za-z_]\w*)['"]\s*(,)?""")


def _dbt_files(*patterns: str) -> list[Path]:
    return sorted(
        path for folder in SOURCE_DIRS for pattern in patterns for path in (DBT_PROJECT_DIR / folder).rglob(pattern)
    )


def _project() -> dict:
    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))


def _var_calls() -> list[tuple[str, int, str, bool]]:
    """(file, line, var name, has a default) for every var() call in the project's SQL and YAML."""
    calls = []
    for path in _dbt_files("*.sql", "*.yml", "*.yaml"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            calls += [
                (str(path.relative_to(DBT_PROJECT_DIR)), number, match[1], bool(match[2]))
                for match in VAR_CALL.finditer(line)
            ]
    return calls


def test_every_var_used_is_declared_in_dbt_project_yml() -> None:
    declared = set(_project()["vars"])
    calls = _var_calls()
    assert len({name for _, _, name, _ in calls}) >= 10, "the scan must see the project's vars"
    undeclared = [f"{file}:{line}: {name}" for file, line, name, _ in calls if name not in declared]
    assert undeclared == [], "declare these vars (with their default) in dbt_project/dbt_project.yml"


def test_no_var_default_is_hidden_in_sql() -> None:
    # A default in SQL is a second value for the same parameter: dbt_project.yml's wins, and the two drift apart.
    hidden = [f"{file}:{line}: {name}" for file, line, name, has_default in _var_calls() if has_default]
    assert hidden == [], "write var('name') and keep the default in dbt_project/dbt_project.yml"


def _model_yaml() -> dict[Path, dict]:
    return {path: yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in _dbt_files("*.yml")}


def test_contracts_are_set_per_folder_not_per_model() -> None:
    marts = _project()["models"]["contact_warehouse"]["marts"]
    # Enforced where the YAML's DuckDB type names are the engine's own
    # (DECISIONS.md "Contracts enforced on DuckDB only").
    assert marts["+contract"] == {"enforced": "{{ target.type == 'duckdb' }}"}
    per_model = [
        f"{path.relative_to(DBT_PROJECT_DIR)}: {model['name']}"
        for path, document in _model_yaml().items()
        for model in document.get("models") or []
        if "contract" in (model.get("config") or {})
    ]
    assert per_model == [], "set +contract on the folder in dbt_project/dbt_project.yml"


def test_no_dbt_yaml_uses_anchors_or_aliases() -> None:
    # Hand-written YAML: a reader sees every test and row where it applies, not behind `*id001`.
    files = [DBT_PROJECT_DIR / "dbt_project.yml", *_dbt_files("*.yml", "*.yaml")]
    found = [
        f"{path.relative_to(DBT_PROJECT_DIR)}:{event.start_mark.line + 1}"
        for path in files
        for event in yaml.parse(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)
    ]
    assert len(files) > 20
    assert found == [], "write the YAML out by hand (no &anchors or *aliases)"


def test_sql_source_lines_fit_the_line_length() -> None:
    # sqlfluff's LT05 measures the rendered SQL (dbt's macros expand there), so it is off in .sqlfluff; the limit
    # holds on what people read and edit: the source.
    config = configparser.ConfigParser()
    config.read(DBT_PROJECT_DIR.parent / ".sqlfluff")
    limit = config.getint("sqlfluff", "max_line_length")
    long_lines = [
        f"{path.relative_to(DBT_PROJECT_DIR)}:{number}: {len(line)}"
        for path in _dbt_files("*.sql")
        # Written by contact_warehouse.report.metrics_macro from the semantic YAML: nobody edits it by hand.
        if path.name != "semantic_metrics_generated.sql"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if len(line) > limit
    ]
    assert long_lines == [], f"wrap these lines at {limit} characters"


# Spelled for DuckDB only: Spark needs a length on varchar and PostgreSQL has no double (issue 21). The portable
# spellings are dbt.type_string() and type_double() (macros/portable.sql, where the per-engine names live).
ENGINE_TYPE_CAST = re.compile(r"\bas\s+(varchar|double|string)\b\s*\)", re.IGNORECASE)


def test_sql_casts_use_the_portable_type_macros() -> None:
    found = [
        f"{path.relative_to(DBT_PROJECT_DIR)}:{number}: {line.strip()}"
        for path in _dbt_files("*.sql")
        if path.name != "portable.sql"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ENGINE_TYPE_CAST.search(line)
    ]
    assert found == [], "cast with {{ dbt.type_string() }} / {{ type_double() }}, not an engine's type name"


# PostgreSQL's identifiers are at most 63 bytes (NAMEDATALEN - 1), and dbt names a unit test's relation after the
# test: the `unit` materialization calls `this.incorporate(type='table')` with the test's name as identifier, and
# dbt-postgres's PostgresRelation rejects an identifier over 63 characters ("Relation name ... is longer than 63
# characters"). The temporary table it then creates appends `__dbt_tmp<time>` but cuts the name to fit, so the
# limit is the name itself. (dbt adds `_v<n>` for a versioned model; the project versions none.)
POSTGRES_MAX_IDENTIFIER = 63


def test_unit_test_names_fit_postgres_relation_names() -> None:
    names = [
        (str(path.relative_to(DBT_PROJECT_DIR)), test["name"])
        for path, document in _model_yaml().items()
        for test in document.get("unit_tests") or []
    ]
    assert len(names) > 30, "the scan must see the project's unit tests"
    too_long = [f"{file}: {name} ({len(name)})" for file, name in names if len(name) > POSTGRES_MAX_IDENTIFIER]
    assert too_long == [], f"shorten these unit-test names to {POSTGRES_MAX_IDENTIFIER} characters (PostgreSQL)"
