"""Incremental staging: a nightly run on top of the history gives exactly what a full refresh of the same
warehouse gives, re-delivered rows included."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import load_landing, run_dbt

from orchestration.bench import Size, add_next_day, generate_data
from orchestration.settings import DBT_PROJECT_DIR

HISTORY_DAYS = 4
SMALL = Size("incremental-test", customers=300, approx_events=6_000)


def _incremental_models(dbt, db: Path) -> list[str]:
    result = dbt(
        ["ls", "--resource-type", "model", "--select", "config.materialized:incremental", "--output", "name"],
        db,
    )
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip().startswith("stg_"))


def _redeliver(landing: Path, export: str, column: str, values: tuple[str, str]) -> tuple[str, str]:
    """A re-export of the first row of the export's first file, with ``column`` changed to the one of ``values``
    it does not hold, under a new name: the kind of correction a vendor sends days later. Returns the row's key
    and the new value."""
    first = sorted((landing / export).glob("*.csv"))[0]
    with first.open(newline="") as f:
        reader = csv.DictReader(f)
        header, row = reader.fieldnames, next(reader)
    new_value = values[1] if row[column] == values[0] else values[0]
    row[column] = new_value
    target = landing / export / f"{first.stem}_correction.csv"
    with target.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerow(row)
    return row[header[0]], new_value


def _compiled_code(name: str) -> str:
    results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    return next(r["compiled_code"] for r in results if r["unique_id"].endswith("." + name))


def _differences(con: duckdb.DuckDBPyConnection, model: str) -> tuple[int, int]:
    """Rows of the incremental table missing from the full refresh, and the other way round (as multisets)."""
    table, full = f"staging.{model}", f"full_refresh.staging.{model}"
    only_incremental = con.execute(f"select count(*) from (from {table} except all from {full})").fetchone()[0]
    only_full = con.execute(f"select count(*) from (from {full} except all from {table})").fetchone()[0]
    return only_incremental, only_full


@pytest.fixture(scope="module")
def nightly_warehouse(tmp_path_factory: pytest.TempPathFactory):
    """History built, then one more day and two re-delivered corrections loaded and built incrementally."""
    work = tmp_path_factory.mktemp("incremental")
    generate_data(work, SMALL, seed=7, days=HISTORY_DAYS)
    landing = work / "landing"
    db = work / "warehouse" / "warehouse.duckdb"
    db.parent.mkdir()
    load_landing(db, landing)
    run_dbt(["run", "--select", "staging"], db)
    with duckdb.connect(str(db), read_only=True) as con:
        history_ivr_events = con.execute("select count(*) from staging.stg_phone_system__ivr_events").fetchone()[0]

    add_next_day(work)
    call = _redeliver(landing, "calls", "resolved", ("true", "false"))
    view = _redeliver(landing, "faq_views", "vote", ("down", "up"))
    load_landing(db, landing)
    run_dbt(["run", "--select", "staging"], db)
    compiled = {name: _compiled_code(name) for name in ("stg_phone_system__calls", "stg_help_center__faq_views")}

    full = work / "full_refresh" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copy(db, full)
    run_dbt(["run", "--select", "staging", "--full-refresh"], full)
    return {
        "db": db,
        "full": full,
        "call": call,
        "view": view,
        "compiled": compiled,
        "history_ivr_events": history_ivr_events,
    }


def test_every_staging_model_of_an_export_is_incremental(nightly_warehouse, dbt) -> None:
    models = _incremental_models(dbt, nightly_warehouse["db"])
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
        ]
    )
    # The nightly run read only the new loads: its SQL filters on the watermark.
    for code in nightly_warehouse["compiled"].values():
        assert "_load_seq > (select coalesce(max(_load_seq), 0) from" in code


def test_incremental_run_equals_a_full_refresh(nightly_warehouse, dbt) -> None:
    models = _incremental_models(dbt, nightly_warehouse["db"])
    with duckdb.connect(str(nightly_warehouse["db"]), read_only=True) as con:
        con.execute(f"attach '{nightly_warehouse['full']}' as full_refresh (read_only)")
        differences = {model: _differences(con, model) for model in models}
        counts = {model: con.execute(f"select count(*) from staging.{model}").fetchone()[0] for model in models}
    assert differences == {model: (0, 0) for model in models}
    # Not a comparison of empty tables, and the increment added rows.
    assert all(counts[model] > 0 for model in models)
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
