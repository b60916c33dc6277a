"""Expectation suites: each parses into GE and targets a dbt model; a failing frame fails its Dagster check with
every failing expectation named and the offending values shown; a suite ahead of its model is skipped."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_dbt import get_asset_key_for_model

from contact_warehouse.quality.suites import SuiteError, read_suite, read_suites
from contact_warehouse.quality.validation import expectation_suite, validate_frame
from contact_warehouse.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from orchestration.assets.dbt import warehouse_dbt_assets
from orchestration.checks import CHECK_NAME, MissingModelWarning, build_expectation_check, build_expectation_checks
from orchestration.definitions import defs
from orchestration.resources import WarehouseResource

NOW = datetime(2026, 11, 1, 12, 0)
SURVEYS = EXPECTATIONS_DIR / "stg_phone_system__survey_answers.json"
LEDGER = EXPECTATIONS_DIR / "stg_loading__load_ledger.json"


def test_every_suite_parses_and_targets_an_existing_model() -> None:
    suites = read_suites()
    assert {s.model for s in suites} >= {"stg_phone_system__survey_answers", "stg_loading__load_ledger"}
    checks = {key for key in defs().resolve_asset_graph().asset_check_keys if key.name == CHECK_NAME}
    for suite in suites:
        raw = json.loads(suite.path.read_text())
        assert raw["name"] == suite.path.stem
        # GE would silently drop an expectation it cannot build: every one must survive.
        assert len(expectation_suite(suite).expectations) == len(raw["expectations"]), suite.path.name
        key = get_asset_key_for_model([warehouse_dbt_assets()], suite.model)
        assert dg.AssetCheckKey(key, CHECK_NAME) in checks
        assert defs().resolve_asset_graph().get(dg.AssetCheckKey(key, CHECK_NAME)).blocking == suite.blocking


# A GE expectation on one column, and the dbt rule that says the same of that column: a generic test (without a
# `where` filter, failing the build) or, for types, the model's enforced contract (expectations/README.md).
SAME_RULE_IN_DBT = {
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_unique": "unique",
    "expect_column_values_to_be_in_set": "accepted_values",
    "expect_column_values_to_be_between": "accepted_range",
    "expect_column_values_to_be_of_type": "contract",
    "expect_column_values_to_be_in_type_list": "contract",
}


def dbt_rules_by_column(manifest: dict) -> dict[tuple[str, str], set[str]]:
    """(model, column) -> the dbt rules that hold on every row of that column."""
    rules: dict[tuple[str, str], set[str]] = defaultdict(set)
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            for column in node["columns"].values():
                key = (node["name"], column["name"])
                if node["config"]["contract"]["enforced"] and column.get("data_type"):
                    rules[key].add("contract")
                for constraint in column.get("constraints") or []:
                    kinds = {"not_null", "unique"} if constraint["type"] == "primary_key" else {constraint["type"]}
                    rules[key] |= kinds
        elif node["resource_type"] == "test" and node.get("test_metadata") and node.get("attached_node"):
            config = node["config"]
            if node.get("column_name") and not config.get("where") and str(config.get("severity")).lower() == "error":
                model = manifest["nodes"][node["attached_node"]]["name"]
                rules[(model, node["column_name"])].add(node["test_metadata"]["name"])
    return rules


def test_no_expectation_repeats_a_dbt_test_on_the_same_column() -> None:
    # dbt tests say keys, nulls, accepted values, fixed ranges, relationships and types; a suite repeating one
    # costs the nightly run a second read of the table and says nothing new.
    assert defs is not None  # importing the definitions wrote target/manifest.json
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    rules = dbt_rules_by_column(manifest)
    assert rules[("fct_engagements", "engagement_id")] >= {"unique", "not_null", "contract"}
    repeated = [
        f"{suite.path.name}: {spec['type']}({spec['kwargs']['column']}) repeats dbt's {SAME_RULE_IN_DBT[spec['type']]}"
        for suite in read_suites()
        for spec in suite.expectations
        if SAME_RULE_IN_DBT.get(spec["type"]) in rules.get((suite.model, spec["kwargs"].get("column")), set())
    ]
    assert repeated == [], "\n".join(repeated)


# Rules on one column that a dbt generic test says whatever the column: they belong in the model's YAML even when no
# dbt test holds them yet (the check above only sees rules written twice).
ONE_COLUMN_DBT_RULES = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_in_set",
}


def test_no_suite_keeps_a_one_column_rule_dbt_can_say() -> None:
    # A range between fixed numbers is dbt's accepted_range; GE keeps ranges relative to the run ({"$PARAMETER"}).
    found = [
        f"{suite.path.name}: {spec['type']}({spec['kwargs']['column']})"
        for suite in read_suites()
        for spec in suite.expectations
        if spec["kwargs"].get("column")
        and (
            spec["type"] in ONE_COLUMN_DBT_RULES
            or (
                spec["type"] == "expect_column_values_to_be_between"
                and not any(isinstance(spec["kwargs"].get(k), dict) for k in ("min_value", "max_value"))
            )
        )
    ]
    assert found == [], "write these as dbt tests (expectations/README.md):\n" + "\n".join(found)


def test_a_suite_ahead_of_its_model_is_skipped_with_a_warning(tmp_path: Path) -> None:
    shutil.copy(SURVEYS, tmp_path / SURVEYS.name)
    ahead = {
        "name": "mart_not_built_yet",
        "expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}],
    }
    (tmp_path / "mart_not_built_yet.json").write_text(json.dumps(ahead))
    with pytest.warns(MissingModelWarning, match="mart_not_built_yet"):
        checks = build_expectation_checks(warehouse_dbt_assets(), tmp_path)
    assert [key.asset_key.path[-1] for check in checks for key in check.check_keys] == [SURVEYS.stem]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"name": "x", "expectations": [{"type": "expect_column_values_to_be_betwen", "kwargs": {"column": "a"}}]},
            "expect_column_values_to_be_betwen",
        ),
        ({"name": "other_name", "expectations": []}, "must equal the file stem"),
        ({"name": "x", "meta": {"severity": "fatal"}, "expectations": []}, "severity"),
    ],
)
def test_a_broken_suite_fails_loudly(tmp_path: Path, document: dict, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SuiteError, match=message):
        expectation_suite(read_suite(path))


# A suite of the checks' machinery, independent of the project's suites (which hold only what dbt cannot say).
SURVEY_RULES = {
    "name": "survey_rules",
    "meta": {"severity": "error", "row_id_columns": ["response_id"]},
    "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "response_id"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "score", "min_value": 0, "max_value": 10}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "survey_type", "value_set": ["nps", "csat"]},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "responded_at", "max_value": {"$PARAMETER": "now"}},
        },
    ],
}


def _suite_file(directory: Path, document: dict) -> Path:
    path = directory / f"{document['name']}.json"
    path.write_text(json.dumps(document))
    return path


def _survey_frame(**bad: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "survey_type": ["nps", "csat", "nps"],
            "score": [9, 4, 0],
            "responded_at": pd.to_datetime(["2026-10-05 10:00", "2026-10-06 11:00", "2026-10-07 12:00"]),
        }
    )
    for column, value in bad.items():
        frame.loc[2, column] = value
    return frame


def test_a_clean_frame_passes() -> None:
    outcome = validate_frame(read_suite(SURVEYS), _survey_frame(), now=NOW)
    assert outcome.passed, outcome.failures
    assert outcome.evaluated == len(json.loads(SURVEYS.read_text())["expectations"])


def test_the_survey_suite_fails_on_an_answer_from_the_future() -> None:
    # What the project's survey suite blocks (dbt cannot know the validation time): it names the row.
    outcome = validate_frame(read_suite(SURVEYS), _survey_frame(responded_at=pd.Timestamp("2027-01-01")), now=NOW)
    assert not outcome.passed
    (failure,) = outcome.failures
    assert failure["expectation"] == "expect_column_values_to_be_between(responded_at)"
    assert failure["offending_values"] == ["2027-01-01T00:00:00"]
    assert failure["offending_rows"] == [{"responded_at": "2027-01-01T00:00:00", "response_id": "r3"}]


def test_a_failing_frame_names_each_failing_expectation_with_offending_values(tmp_path: Path) -> None:
    frame = _survey_frame(score=99, survey_type="ces", response_id="r1", responded_at=pd.Timestamp("2027-01-01"))
    outcome = validate_frame(read_suite(_suite_file(tmp_path, SURVEY_RULES)), frame, now=NOW)

    assert not outcome.passed
    by_name = {f["expectation"]: f for f in outcome.failures}
    assert by_name["expect_column_values_to_be_between(score)"]["offending_values"] == [99]
    assert by_name["expect_column_values_to_be_between(score)"]["offending_rows"] == [
        {"score": 99, "response_id": "r1"}
    ]
    assert by_name["expect_column_values_to_be_in_set(survey_type)"]["offending_values"] == ["ces"]
    assert by_name["expect_column_values_to_be_unique(response_id)"]["offending_values"] == ["r1", "r1"]
    assert by_name["expect_column_values_to_be_between(responded_at)"]["offending_values"] == ["2027-01-01T00:00:00"]
    assert "99" in outcome.summary()


def _ledger_db(path: Path, rows: list[tuple]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging")
        con.execute(
            """create table staging.stg_loading__load_ledger (load_id varchar, load_seq bigint, export varchar,
               file_path varchar, file_sha256 varchar, file_bytes bigint, rows_read bigint, rows_loaded bigint,
               rows_rejected bigint, load_status varchar, message varchar, loaded_at timestamp, rows_filtered bigint)"""
        )
        con.executemany("insert into staging.stg_loading__load_ledger values (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return path


def _ledger_row(load_id: str, read: int, loaded: int, rejected: int) -> tuple:
    return (
        load_id,
        1,
        "calls",
        f"calls/{load_id}.csv",
        "a" * 64,
        10,
        read,
        loaded,
        rejected,
        "loaded",
        None,
        datetime(2026, 10, 5),
        0,
    )


# A rule across columns through a derived column (the ledger's reconciliation is a dbt test in the project).
LEDGER_RECONCILES = {
    "name": "stg_loading__load_ledger",
    "meta": {
        "severity": "error",
        "row_id_columns": ["load_id", "file_path"],
        "derived_columns": {"rows_accounted": "rows_loaded + rows_rejected + rows_filtered"},
    },
    "expectations": [
        {
            "type": "expect_column_pair_values_to_be_equal",
            "kwargs": {"column_A": "rows_read", "column_B": "rows_accounted"},
        }
    ],
}


def test_the_check_fails_with_the_unreconciled_ledger_row_in_its_metadata(tmp_path: Path) -> None:
    db = _ledger_db(tmp_path / "warehouse.duckdb", [_ledger_row("L1", 10, 8, 2), _ledger_row("L2", 10, 7, 2)])
    suite = read_suite(_suite_file(tmp_path, LEDGER_RECONCILES))
    key = get_asset_key_for_model([warehouse_dbt_assets()], suite.model)
    check = build_expectation_check(suite, key, "staging", "stg_loading__load_ledger")

    result = check(dg.build_asset_check_context(), warehouse=WarehouseResource(database=str(db)))

    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    failures = {name: value.value for name, value in result.metadata.items() if name.startswith("failed_")}
    assert list(failures) == ["failed_1: expect_column_pair_values_to_be_equal(rows_read, rows_accounted)"]
    failure = next(iter(failures.values()))
    assert failure["offending_values"] == [[10, 9]]
    assert failure["offending_rows"][0]["load_id"] == "L2"
    # The connection was read-only and is closed: the file opens for writing again.
    duckdb.connect(str(db)).close()


def test_the_check_fails_when_the_table_is_missing(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    suite = read_suite(LEDGER)
    check = build_expectation_check(suite, dg.AssetKey(["x"]), "staging", "stg_loading__load_ledger")
    result = check(dg.build_asset_check_context(), warehouse=WarehouseResource(database=str(db)))
    assert not result.passed
    assert "stg_loading__load_ledger" in result.description


def test_a_check_reads_only_the_columns_its_suite_names(tmp_path: Path) -> None:
    from contact_warehouse.quality.frames import read_model_frame

    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.wide as select 1 as a, 2 as b, 'unused' as c from range(3)")
    suite = read_suite(_suite_file(tmp_path, SURVEY_RULES))
    assert suite.columns == ["response_id", "score", "survey_type", "responded_at"]

    frame = read_model_frame(db, "marts", "wide", {"a_plus_b": "a + b"}, ["b", "a", "not_in_the_table"])
    assert list(frame.columns) == ["b", "a", "a_plus_b"] and len(frame) == 3
    assert frame["a_plus_b"].tolist() == [3, 3, 3]
    # A suite naming none of the table's columns (only table-level rules) still gets every row.
    assert list(read_model_frame(db, "marts", "wide", {}, []).columns) == ["a", "b", "c"]


def _thousand_calls(folder: Path) -> Path:
    """A warehouse whose staging calls are 1,000 calls a minute apart from 2026-10-05 00:00 (id and start only)."""
    db = folder / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.stg_phone_system__calls as select 'c' || range as call_id, "
            "timestamp '2026-10-05' + to_minutes(range::bigint) as started_at from range(1000)"
        )
    return db


def test_timestamps_are_read_in_nanoseconds_where_they_fit_and_a_far_future_one_still_fails(tmp_path: Path) -> None:
    """GE compares nanosecond timestamps vectorised and others one Python call per row (frames.py); a value past
    2262 keeps its microseconds and the slow path, and is still an offending row."""
    from contact_warehouse.quality.frames import read_model_frame

    db = _thousand_calls(tmp_path)
    suite = read_suite(EXPECTATIONS_DIR / "stg_phone_system__calls.json")
    frame = read_model_frame(db, "staging", "stg_phone_system__calls", suite.derived_columns, suite.columns)
    assert str(frame["started_at"].dtype) == "datetime64[ns]"
    assert validate_frame(suite, frame).passed
    for future in ("2099-01-01", "9999-12-31"):
        with duckdb.connect(str(db)) as con:
            con.execute(
                f"update staging.stg_phone_system__calls set started_at = timestamp '{future}' where call_id = 'c7'"
            )
        frame = read_model_frame(db, "staging", "stg_phone_system__calls", suite.derived_columns, suite.columns)
        assert str(frame["started_at"].dtype) == ("datetime64[ns]" if future < "2262" else "datetime64[us]")
        outcome = validate_frame(suite, frame)
        assert not outcome.passed and outcome.failures[0]["unexpected_count"] == 1
        assert outcome.failures[0]["offending_rows"] == [{"started_at": f"{future}T00:00:00", "call_id": "c7"}]


def test_a_suite_of_bounds_reads_only_the_rows_that_could_fail_with_the_same_verdict(tmp_path: Path) -> None:
    """The staging calls' and surveys' suites bound one value each: the check reads only the rows past the bound
    (Suite.candidate_rows) and reports the same verdict, offending values and rows, and the table's row count, as
    a validation of every row; a suite with any other rule (the ledger's, the cockpit's row count) reads all."""
    from contact_warehouse.quality.frames import read_model_frame

    calls = read_suite(EXPECTATIONS_DIR / "stg_phone_system__calls.json")
    condition, params = calls.candidate_rows(NOW)
    assert condition == '"started_at" > ?' and params == [NOW]
    assert read_suite(SURVEYS).candidate_rows(NOW) is not None
    for other in ("stg_loading__load_ledger", "mart_cockpit_daily", "mart_prediction_evaluation"):
        assert read_suite(EXPECTATIONS_DIR / f"{other}.json").candidate_rows(NOW) is None, other
    numbers = read_suite(
        _suite_file(
            tmp_path,
            {
                "name": "stg_phone_system__calls",
                "expectations": [
                    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "n", "min_value": 0}},
                    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "n", "max_value": 9}},
                ],
            },
        )
    )
    assert numbers.candidate_rows(NOW) == ('"n" < ? or "n" > ?', [0, 9])
    for kwargs in ({"mostly": 0.9}, {"strict_max": True}, {"max_value": "2026-01-01"}):
        document = {
            "name": "stg_phone_system__calls",
            "expectations": [
                {"type": "expect_column_values_to_be_between", "kwargs": {"column": "n", "max_value": 9, **kwargs}}
            ],
        }
        assert read_suite(_suite_file(tmp_path, document)).candidate_rows(NOW) is None, kwargs

    db = _thousand_calls(tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute("insert into staging.stg_phone_system__calls values ('no_start', null)")

    def outcomes():
        whole = read_model_frame(db, "staging", "stg_phone_system__calls", calls.derived_columns, calls.columns)
        narrow = read_model_frame(
            db, "staging", "stg_phone_system__calls", calls.derived_columns, calls.columns, calls.candidate_rows(NOW)
        )
        return validate_frame(calls, whole, now=NOW), validate_frame(calls, narrow, now=NOW), len(narrow)

    whole, narrow, read = outcomes()
    assert whole.passed and narrow.passed and read == 0
    assert whole.rows == narrow.rows == 1001
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update staging.stg_phone_system__calls set started_at = timestamp '2026-11-01 12:00' where call_id = 'c3'"
        )
        con.execute(
            "update staging.stg_phone_system__calls set started_at = timestamp '2026-11-01 12:01' where call_id = 'c7'"
        )
        con.execute(
            "update staging.stg_phone_system__calls set started_at = timestamp '9999-12-31' where call_id = 'c9'"
        )
    whole, narrow, read = outcomes()
    assert not whole.passed and not narrow.passed and read == 2
    assert narrow.failures == whole.failures and narrow.rows == whole.rows == 1001
    assert narrow.failures[0]["unexpected_count"] == 2
    assert [row["call_id"] for row in narrow.failures[0]["offending_rows"]] == ["c7", "c9"]


# The rules relative to the run's time on the large marts are dbt tests (DECISIONS.md "Values relative to the run's
# time are dbt tests on the large marts"): GE read a column of every row into pandas for them.
MOVED_TO_DBT = {
    ("fct_engagements", "started_at"): "not_after_run_start",
    ("fct_customer_journeys", "last_contact_at"): "not_after_run_start",
    ("mart_ivr_calls", "started_at"): "not_after_run_start",
    ("fct_engagements", None): "not_empty",
    ("fct_customer_journeys", None): "not_empty",
}


def test_the_large_marts_time_rules_are_dbt_tests_not_suites() -> None:
    assert defs is not None  # importing the definitions wrote target/manifest.json
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    held = {
        (manifest["nodes"][node["attached_node"]]["name"], node.get("column_name"), node["test_metadata"]["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("test_metadata")
        and node.get("attached_node")
        and str(node["config"].get("severity")).lower() == "error"
        and not node["config"].get("where")
    }
    assert {(model, column, rule) for (model, column), rule in MOVED_TO_DBT.items()} <= held
    assert not {model for model, _ in MOVED_TO_DBT} & {suite.model for suite in read_suites()}


def _unique_macros(adapter_type: str = "duckdb"):
    """macros/unique_test.sql as a module of macros, `adapter.dispatch` choosing `<adapter_type>__` or `default__`
    as dbt does, and dbt's `return`."""
    import jinja2

    env = jinja2.Environment()
    module = None

    class Adapter:
        def dispatch(self, name: str):
            return getattr(module, f"{adapter_type}__{name}", None) or getattr(module, f"default__{name}")

    env.globals.update(adapter=Adapter(), **{"return": lambda value: value})
    module = env.from_string((DBT_PROJECT_DIR / "macros" / "unique_test.sql").read_text()).module
    return module


def _generic_test_sql(name: str, adapter_type: str = "duckdb", **arguments: object) -> str:
    """The SQL of one of the project's generic tests, rendered as dbt would (the test block's body), with the
    project's `repeated_hashes` as dispatched on `adapter_type`."""
    import re

    import jinja2

    text = (DBT_PROJECT_DIR / "tests" / "generic" / f"{name}.sql").read_text()
    body = re.search(r"{%\s*test\s+\w+\(.*?\)\s*%}(.*){%\s*endtest\s*%}", text, re.S).group(1)
    return jinja2.Template(body).render(repeated_hashes=_unique_macros(adapter_type).repeated_hashes, **arguments)


def test_not_after_run_start_returns_the_rows_after_the_run_s_start_and_not_empty_an_empty_table() -> None:
    with duckdb.connect() as con:
        con.execute(
            "create table t as select * from (values (timestamp '2026-11-01 11:59:59'), (null::timestamp), "
            "(timestamp '2026-11-01 12:00:01')) as v(started_at)"
        )
        con.execute("create table empty as select 1 as x where false")
        late = _generic_test_sql("not_after_run_start", model="t", column_name="started_at", run_started_at=NOW)
        assert con.execute(late).fetchall() == [(datetime(2026, 11, 1, 12, 0, 1),)]
        assert con.execute(_generic_test_sql("not_empty", model="t")).fetchall() == []
        assert con.execute(_generic_test_sql("not_empty", model="empty")).fetchall() == [(0,)]


def test_unique_on_duckdb_returns_each_repeated_value_with_its_count_as_dbt_s_default() -> None:
    """dbt's `unique` on DuckDB sorts the values' hashes first (macros/unique_test.sql): it returns the rows of dbt's
    default__test_unique (each value that occurs more than once, with its count; NULLs never), on a table and on the
    subquery dbt passes for a test with a `where`, and nothing once the duplicates go."""
    macros = _unique_macros()

    def unique_sql(model: str, column_name: str) -> str:
        return str(macros.duckdb__test_unique(model, column_name))

    def default_sql(model: str, column_name: str) -> str:
        return (
            f"select {column_name} as unique_field, count(*) as n_records from {model} "
            f"where {column_name} is not null group by {column_name} having count(*) > 1"
        )

    with duckdb.connect() as con:
        con.execute(
            "create table t as select 'id-' || range as event_id, range as n, range % 3 as part from range(20000)"
        )
        con.execute(
            "insert into t values ('id-7', 7, 1), ('id-7', 20001, 1), ('id-9', 9, 0), (null, null, 2), (null, null, 2)"
        )
        cases = [("t", "event_id"), ("t", "n"), ("(select * from t where part = 1) dbt_subquery", "event_id")]
        for model, column in cases:
            found = sorted(con.execute(unique_sql(model, column)).fetchall(), key=str)
            assert found == sorted(con.execute(default_sql(model, column)).fetchall(), key=str)
        assert sorted(con.execute(unique_sql("t", "event_id")).fetchall()) == [("id-7", 3), ("id-9", 2)]
        assert sorted(con.execute(unique_sql("t", "n")).fetchall()) == [(7, 2), (9, 2)]
        assert con.execute(unique_sql(*cases[2])).fetchall() == [("id-7", 3)]
        con.execute("delete from t where n in (7, 9, 20001) or n is null")
        assert con.execute(unique_sql("t", "event_id")).fetchall() == []
        assert con.execute(unique_sql("t", "n")).fetchall() == []


def test_unique_combination_returns_each_repeated_combination_nulls_equal_as_a_plain_group_by() -> None:
    """The composite key test groups a hash first (tests/generic/unique_combination.sql): it still returns every
    combination that occurs more than once, a NULL equal to a NULL as the group by has it, and nothing else."""
    columns = ["model_name", "snapshot_at", "customer_key", "engagement_id"]
    with duckdb.connect() as con:
        con.execute(
            """create table rows as select * from (values
                ('repeat_contact', timestamp '2026-11-01', 'c1', 'e1'),
                ('repeat_contact', timestamp '2026-11-01', 'c1', 'e1'),
                ('repeat_contact', timestamp '2026-11-01', 'c1', 'e2'),
                ('repeat_contact', timestamp '2026-11-02', 'c1', 'e1'),
                ('churn', timestamp '2026-11-01', 'c2', null),
                ('churn', timestamp '2026-11-01', 'c2', null),
                ('churn', timestamp '2026-11-01', 'c2', null),
                ('churn', timestamp '2026-11-01', 'c3', null)
            ) as v(model_name, snapshot_at, customer_key, engagement_id)"""
        )
        con.execute(
            "insert into rows select 'churn', timestamp '2026-10-01' + to_days(range % 50), 'k' || (range // 50), null "
            "from range(20000)"
        )
        # DuckDB's form (hashes sorted) and every other engine's (hashes grouped), both run here.
        sqls = [
            _generic_test_sql("unique_combination", kind, model="rows", columns=columns) for kind in ("duckdb", "x")
        ]
        assert "qualify" in sqls[0] and "qualify" not in sqls[1]
        plain = f"select {', '.join(columns)}, count(*) from rows group by all having count(*) > 1"
        for sql in sqls:
            found = sorted(con.execute(sql).fetchall(), key=str)
            assert found == [
                ("churn", datetime(2026, 11, 1), "c2", None, 3),
                ("repeat_contact", datetime(2026, 11, 1), "c1", "e1", 2),
            ]
            assert found == sorted(con.execute(plain).fetchall(), key=str)
        con.execute("delete from rows where customer_key in ('c1', 'c2')")
        assert [con.execute(sql).fetchall() for sql in sqls] == [[], []]
