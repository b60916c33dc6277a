"""The benchmark runs end to end at a tiny size and reports every field; DuckDB settings come from the
environment for the loader and for dbt alike. No timing is asserted: speed is what the benchmark measures."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from contact_warehouse import bench
from contact_warehouse.engine.duckdb_settings import (
    DEFAULT_MEMORY_LIMIT,
    LOAD_THREADS_ENV,
    MEMORY_LIMIT_ENV,
    TEMP_DIR_ENV,
    THREADS_ENV,
    Plugin,
    default_threads,
)
from contact_warehouse.settings import DBT_PROJECT_DIR


def _dig(result: dict, dotted: str):
    value = result
    for part in dotted.split("."):
        value = value[part]
    return value


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("bench")
    lines: list[str] = []
    bench.run(sizes=["tiny"], work_root=root / "work", results_dir=root / "results", echo=lines.append)
    latest = json.loads((root / "results" / "latest.json").read_text())
    return latest, root


def test_tiny_benchmark_reports_every_field_positive(tiny):
    latest, root = tiny
    result = latest["sizes"]["tiny"]
    assert 5_000 <= result["data"]["events"] <= 10_000
    for field in bench.result_fields():
        value = _dig(result, field)
        assert isinstance(value, int | float) and not isinstance(value, bool), field
        assert value > 0, f"{field} = {value}"
    for phase in ("full_build", "increment"):
        run = result[phase]
        assert len(run["top_models"]) == 10
        assert all(row["seconds"] >= 0 for row in run["top_models"])
        assert run["steps"]["warehouse_dbt_assets"] > 0
        # The dbt Python models are told apart from the SQL ones.
        python_models = {row["model"] for row in run["python_models"]}
        assert "int_prediction_rows" in python_models and "stg_phone_system__calls" not in python_models
        assert 0 < run["python_models_share_of_models"] < 1
        # The tree at its peak: the job's own process, then dbt's when it ran then; their sum is the peak.
        assert run["peak_rss_tree_bytes"][0] > 0 and sum(run["peak_rss_tree_bytes"]) <= run["peak_rss_bytes"]
    assert set(result["targets"]) == {
        "full_build_over_floor",
        "increment_over_full_build",
        "load_over_floor",
        "peak_rss_gib",
    }


def test_tiny_benchmark_writes_results_and_cleans_its_work(tiny):
    _, root = tiny
    per_size = list((root / "results").glob("*-tiny.json"))
    assert len(per_size) == 1
    assert json.loads(per_size[0].read_text())["size"] == "tiny"
    assert not (root / "work" / "tiny").exists()  # removed without keep
    table = bench.format_table({"tiny": json.loads(per_size[0].read_text())})
    assert "full build / floor" in table and "increment / full build" in table
    assert "nights measured (median shown)" in table
    night = json.loads(per_size[0].read_text())["increment"]
    assert night["repeats"]["cpu_seconds"] == [night["cpu_seconds"]]  # one night unless --increments says more


def test_each_repeated_night_starts_from_the_full_builds_warehouse_and_the_median_is_reported(tmp_path, monkeypatch):
    """bench_size's repeat loop with the pipeline runs faked (the real runs are the tiny benchmark's, one night): every
    night finds the warehouse as the full build left it, and the night of median CPU is the size's increment."""
    bench_run = importlib.import_module("contact_warehouse.bench.run")  # the module: the package exports run()

    seen: list[tuple[str, str]] = []
    cpu = {"full_build": 50.0, "increment": 9.0, "increment_2": 7.0, "increment_3": 8.0}

    def fake_generate(work: Path, *_args) -> dict:
        for folder in ("warehouse", "serving", "landing"):
            (work / folder).mkdir(parents=True, exist_ok=True)
        (work / "warehouse" / "file").write_text("empty")
        return {"events": 10, "files": 1, "bytes": 100, "increment_events": 1}

    def fake_job(work: Path, label: str) -> dict:
        seen.append((label, (work / "warehouse" / "file").read_text()))
        (work / "warehouse" / "file").write_text("after the full build" if label == "full_build" else "after a night")
        return {"label": label}

    def fake_summary(run: dict, work: Path, label: str, keep: bool) -> dict:
        return {
            "label": label,
            "wall_seconds": cpu[label] + 1,
            "cpu_seconds": cpu[label],
            "load_seconds": 1.0,
            "peak_rss_gib": 1.0,
        }

    monkeypatch.setattr(bench_run, "generate_data", fake_generate)
    monkeypatch.setattr(bench_run, "measure_floor", lambda *_a: {"seconds": 1.0, "cpu_seconds": 1.0})
    monkeypatch.setattr(bench_run, "_prepare_manifest", lambda _work: None)
    monkeypatch.setattr(bench_run, "add_next_day", lambda _work: None)
    monkeypatch.setattr(bench_run, "run_job", fake_job)
    monkeypatch.setattr(bench_run, "summarize_run", fake_summary)
    lines: list[str] = []
    result = bench_run.bench_size(
        bench.SIZES["tiny"], work_root=tmp_path, keep=False, seed=1, days=2, echo=lines.append, increments=3
    )
    assert seen == [
        ("full_build", "empty"),
        ("increment", "after the full build"),
        ("increment_2", "after the full build"),
        ("increment_3", "after the full build"),
    ]
    assert result["increment"]["label"] == "increment_3"  # CPU 9, 7, 8: the median is 8
    assert result["increment"]["repeats"]["cpu_seconds"] == [9.0, 7.0, 8.0]
    assert sum("increment" in line for line in lines) == 3
    assert not (tmp_path / "tiny").exists()  # removed without keep


def test_median_increment_picks_the_run_of_median_cpu():
    runs = [
        {"cpu_seconds": cpu, "wall_seconds": wall, "label": label}
        for cpu, wall, label in [(30.0, 31.0, "a"), (10.0, 12.0, "b"), (20.0, 25.0, "c")]
    ]
    night = bench.median_increment(runs)
    assert night["label"] == "c" and night["cpu_seconds"] == 20.0 and night["wall_seconds"] == 25.0
    assert night["repeats"] == {"wall_seconds": [31.0, 12.0, 25.0], "cpu_seconds": [30.0, 10.0, 20.0]}
    assert bench.median_increment(runs[:1])["label"] == "a"
    with pytest.raises(bench.BenchError):
        bench.median_increment([])


def test_a_repeated_night_starts_from_the_full_builds_files(tmp_path):
    from contact_warehouse.bench.run import _restore_after_full_build, _snapshot_after_full_build

    for folder, text in (("warehouse", "after the full build"), ("serving", "served")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "file").write_text(text)
    _snapshot_after_full_build(tmp_path)
    (tmp_path / "warehouse" / "file").write_text("after the night")
    (tmp_path / "warehouse" / "spill.tmp").write_text("left by the night")
    _restore_after_full_build(tmp_path)
    assert (tmp_path / "warehouse" / "file").read_text() == "after the full build"
    assert not (tmp_path / "warehouse" / "spill.tmp").exists()
    assert (tmp_path / "serving" / "file").read_text() == "served"


def test_increments_below_one_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        bench.run(sizes=["tiny"], work_root=tmp_path / "work", results_dir=tmp_path / "results", increments=0)


def test_increment_is_exactly_the_next_day(tiny):
    latest, _ = tiny
    data = latest["sizes"]["tiny"]["data"]
    # One new file per daily export plus the two snapshots of that day (customers, FAQ articles).
    assert 0 < data["increment_files"] <= 10
    assert 0 < data["increment_events"] < data["events"] / 10


def _result(name: str, events: int, full_seconds: float) -> dict:
    return {
        "size": name,
        "data": {"events": events},
        "full_build": {"wall_seconds": full_seconds, "cpu_seconds": full_seconds, "dbt_models_seconds": full_seconds},
    }


def test_growth_allows_12x_time_per_10x_events():
    rows = bench.growth({"medium": _result("medium", 1_000_000, 100.0), "large": _result("large", 10_000_000, 1100.0)})
    assert rows == [
        {
            "from": "medium",
            "to": "large",
            "events_ratio": 10.0,
            "full_build_time_ratio": 11.0,
            "full_build_cpu_ratio": 11.0,
            "dbt_models_time_ratio": 11.0,
            "time_ratio_max": 12.0,
            "met": True,
        }
    ]
    worse = bench.growth({"m": _result("m", 1_000_000, 100.0), "l": _result("l", 10_000_000, 1300.0)})
    assert worse[0]["met"] is False


def _with_increment(name: str, days: int, events: int, increment_seconds: float) -> dict:
    result = _result(name, events, 10 * increment_seconds)
    result["data"].update(days=days, increment_events=events // days)
    result["increment"] = {"wall_seconds": increment_seconds, "cpu_seconds": increment_seconds}
    return result


def test_history_independence_compares_the_increments_of_the_same_daily_volume():
    results = {
        "medium": _with_increment("medium", 30, 1_000_000, 100.0),
        "long": _with_increment("long", 120, 4_000_000, 120.0),
    }
    (row,) = bench.history_independence(results)
    assert (row["short"], row["long"], row["short_days"], row["long_days"]) == ("medium", "long", 30, 120)
    assert (row["increment_time_ratio"], row["max"], row["met"]) == (1.2, 1.25, True)
    # Judged on CPU seconds: a longer wall time on a busier machine is not a cost of the history.
    results["long"]["increment"]["wall_seconds"] = 130.0
    assert bench.history_independence(results)[0]["met"] is True
    results["long"]["increment"]["cpu_seconds"] = 130.0
    assert bench.history_independence(results)[0]["met"] is False
    # Growth compares sizes of the same history length only: medium -> long is not 4x the daily volume.
    assert bench.growth(results) == []
    assert bench.history_independence({"medium": results["medium"]}) == []
    assert "increment on 120 days / on 30 days" in bench.format_table({}, (), bench.history_independence(results))


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="unknown sizes"):
        bench.run(sizes=["huge"])


# ------------------------------------------------------------------------------- DuckDB settings


def test_loader_connection_reads_settings_from_the_environment(tmp_path, monkeypatch):
    from contact_warehouse.loading.loader import connect_for_loading

    db = tmp_path / "warehouse.duckdb"
    for name in (THREADS_ENV, MEMORY_LIMIT_ENV, TEMP_DIR_ENV, LOAD_THREADS_ENV):
        monkeypatch.delenv(name, raising=False)
    with connect_for_loading(db) as con:
        threads, memory, temp, order = con.execute(
            "select current_setting('threads'), current_setting('memory_limit'), "
            "current_setting('temp_directory'), current_setting('preserve_insertion_order')"
        ).fetchone()
    assert threads == 1  # the loader's statements read one file's rows (DECISIONS: one thread)
    assert memory == "1.8 GiB"  # 2GB
    assert temp == f"{db}.tmp"
    assert order is True  # the loader numbers CSV rows by scan order

    monkeypatch.setenv(LOAD_THREADS_ENV, "3")
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    monkeypatch.setenv(TEMP_DIR_ENV, str(tmp_path / "spill"))
    with connect_for_loading(db) as con:
        threads, memory, temp = con.execute(
            "select current_setting('threads'), current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
    assert (threads, memory, temp) == (3, "953.6 MiB", str(tmp_path / "spill"))


def test_dbt_profile_uses_the_same_settings_and_defaults(tmp_path, monkeypatch):
    text = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    output = yaml.safe_load(text)["contact_warehouse"]["outputs"]["dev"]
    # Set again on every cursor: never the spill folder, which DuckDB refuses once it has spilled.
    assert output["settings"] == {"TimeZone": "UTC", "preserve_insertion_order": False}
    modules = [plugin["module"] for plugin in output["plugins"]]
    assert modules == ["contact_warehouse.engine.duckdb_settings"]

    db = tmp_path / "warehouse.duckdb"
    creds = SimpleNamespace(path=str(db))
    for name in (THREADS_ENV, MEMORY_LIMIT_ENV, TEMP_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    config: dict = {}
    Plugin.update_connection_config(object.__new__(Plugin), creds, config)
    assert config == {
        "threads": default_threads(),
        "memory_limit": DEFAULT_MEMORY_LIMIT,
        "temp_directory": f"{db}.tmp",
        "preserve_insertion_order": False,
        # The warehouse's writers run without DuckDB's vacuum (DECISIONS: the storage step).
        "max_vacuum_tasks": 0,
    }
    monkeypatch.setenv(THREADS_ENV, "1")
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    monkeypatch.setenv(TEMP_DIR_ENV, str(tmp_path / "spill"))
    Plugin.update_connection_config(object.__new__(Plugin), creds, config)
    assert (config["threads"], config["memory_limit"], config["temp_directory"]) == (1, "1GB", str(tmp_path / "spill"))


def test_release_cache_frees_duckdbs_cached_blocks_and_keeps_the_limit(tmp_path, monkeypatch):
    """A dbt Python model first frees what DuckDB cached for the models before it (DECISIONS.md "DuckDB's cache
    released before each dbt Python model"); the limit is the configured one again afterwards."""
    import duckdb

    from contact_warehouse.engine import duckdb_settings
    from contact_warehouse.engine.duckdb_settings import release_cache

    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    monkeypatch.setattr(duckdb_settings, "RELEASE_LIMIT", "8MB")  # a small table's cache is below 64MB
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table t as select range as i, md5(range::varchar) as s from range(1000000)")
        con.execute("checkpoint")
    with duckdb.connect(str(db), config={"memory_limit": "1GB"}) as con:
        con.sql("select max(i), max(s) from t").fetchall()

        def cached() -> int:
            return con.execute("select sum(memory_usage_bytes) from duckdb_memory()").fetchone()[0]

        before = cached()
        assert before > 16 * 2**20
        release_cache(con.cursor())  # dbt's model gets a cursor: the setting is the database's
        assert cached() < before / 2
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"  # 1GB


def test_dbt_opens_new_cursors_after_its_database_spilled(tmp_path, monkeypatch):
    """dbt opens a cursor per model and test and sets the profile's settings on each: after a model spilled to
    disk, that must still work (it did not while the spill folder was one of them)."""
    import duckdb
    from dbt.adapters.duckdb.environments import Environment

    db, spill = tmp_path / "warehouse.duckdb", tmp_path / "spill"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    monkeypatch.setenv(TEMP_DIR_ENV, str(spill))
    config: dict = {}
    Plugin.update_connection_config(object.__new__(Plugin), SimpleNamespace(path=str(db)), config)
    output = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["contact_warehouse"]["outputs"]["dev"]
    creds = SimpleNamespace(settings=output["settings"], retries=None)
    with duckdb.connect(str(db), config=config) as con:
        con.execute("create table numbers as select range as n, random() as r from range(5000000)")
        con.execute("create table sorted as select * from numbers order by r")
        # It spilled: DuckDB now refuses the spill folder as a per-cursor setting.
        with pytest.raises(duckdb.NotImplementedException, match="temporary directory"):
            con.cursor().execute(f"set temp_directory = '{spill}'")
        cursor = Environment.initialize_cursor(creds, con.cursor())
        assert cursor.execute("select count(*) from sorted").fetchone()[0] == 5_000_000


def test_every_longer_history_ends_on_the_30_day_history_last_day():
    """The long size (120 days) once ran 90 days past the medium's last day, into the real future, and its full
    build failed on the expectations that refuse contacts dated after now. A longer history now starts earlier and
    ends on the same day, so its increment is the same calendar day's delivery as the medium's."""
    from datetime import timedelta

    from contact_warehouse.generator.days import START_DATE, start_date_for

    last_day = START_DATE + timedelta(days=29)
    for days in (30, 31, 60, 120, 365):
        assert start_date_for(days) + timedelta(days=days - 1) == last_day, days
    assert start_date_for(7) == START_DATE  # a shorter history starts on START_DATE, as before


def test_keep_snapshots_the_warehouse_as_the_full_build_left_it(tmp_path):
    """With --keep the increment can be replayed: the warehouse and serving files before the next day are copied."""
    from contact_warehouse.bench.run import _snapshot_after_full_build

    for folder, name in (("warehouse", "warehouse.duckdb"), ("serving", "serving.duckdb")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text(f"{folder} after the full build")
    _snapshot_after_full_build(tmp_path)
    (tmp_path / "warehouse" / "warehouse.duckdb").write_text("after the increment")
    snapshot = tmp_path / "after_full_build"
    assert (snapshot / "warehouse" / "warehouse.duckdb").read_text() == "warehouse after the full build"
    assert (snapshot / "serving" / "serving.duckdb").read_text() == "serving after the full build"


def test_the_jobs_own_peak_is_not_the_one_it_inherits_from_its_parent():
    """Linux keeps ``ru_maxrss`` across ``execve``: a job started by a parent that holds 400 MB began with a peak of
    400 MB. The job report reads its process's own high-water mark instead (``orchestration/bench_job.py``)."""
    import subprocess
    import sys

    held = bytearray(400 * 1024 * 1024)
    held[::4096] = b"\1" * len(held[::4096])  # touched: resident, the parent's RSS
    probe = (
        "import resource; from orchestration.bench_job import _maxrss_bytes; "
        "print(_maxrss_bytes(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=DBT_PROJECT_DIR.parent
    )
    own, inherited = map(int, out.stdout.split())
    del held
    assert inherited > 400 * 1024 * 1024  # the trap is real on this machine
    assert own < 200 * 1024 * 1024


def test_int_prediction_rows_lowers_duckdbs_limit_and_its_post_hook_restores_the_warehouses(monkeypatch):
    """The model holds its frames under a lower DuckDB limit (release_cache with python_model_memory_limit); its
    post-hook, restore_memory_limit, sets the warehouse's limit again, the one the Plugin opened the database with."""
    import duckdb
    import jinja2

    from contact_warehouse.engine.duckdb_settings import (
        DEFAULT_PYTHON_MODEL_MEMORY_LIMIT,
        python_model_memory_limit,
        release_cache,
    )

    macro = (DBT_PROJECT_DIR / "macros" / "restore_memory_limit.sql").read_text()

    def restored(environ: dict[str, str]) -> str:
        context = {"env_var": lambda name, default=None: environ.get(name, default)}
        return str(jinja2.Environment().from_string(macro).make_module(context).restore_memory_limit()).strip()

    assert restored({}) == f"set memory_limit = '{DEFAULT_MEMORY_LIMIT}'"
    assert restored({MEMORY_LIMIT_ENV: ""}) == f"set memory_limit = '{DEFAULT_MEMORY_LIMIT}'"
    assert restored({MEMORY_LIMIT_ENV: " 3GB "}) == "set memory_limit = '3GB'"

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    assert python_model_memory_limit() == DEFAULT_PYTHON_MODEL_MEMORY_LIMIT == "1GB"
    con = duckdb.connect()
    limit = "select current_setting('memory_limit')"
    release_cache(con, python_model_memory_limit())
    lowered = con.execute(limit).fetchone()[0]
    con.execute(restored({}))
    assert (lowered, con.execute(limit).fetchone()[0]) == ("953.6 MiB", "1.8 GiB")
    release_cache(con)  # without a limit: the warehouse's
    assert con.execute(limit).fetchone()[0] == "1.8 GiB"

    model = yaml.safe_load(
        (DBT_PROJECT_DIR / "models/intermediate/predictions/_int_predictions__models.yml").read_text()
    )
    (rows,) = [m for m in model["models"] if m["name"] == "int_prediction_rows"]
    assert rows["config"]["post_hook"] == "{{ restore_memory_limit() }}"
    assert (
        "release_cache(session, python_model_memory_limit())"
        in (DBT_PROJECT_DIR / "models/intermediate/predictions/int_prediction_rows.py").read_text()
    )
