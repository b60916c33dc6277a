"""The dbt target of the nightly job's dbt step (``CONTACT_WAREHOUSE_DBT_TARGET``, README "Scaling out"): the Dagster
dbt resource passes it as ``--target``; a target that is not DuckDB gets its marts copied into the build file
(tests/test_engines_serving.py builds on PostgreSQL and Spark and checks the copy, the publication and the report)."""

from __future__ import annotations

import json

import duckdb
import pytest

from contact_warehouse.engine.engine_marts import EngineMartsError, copy_engine_marts, target_type
from contact_warehouse.settings import known_settings
from orchestration.project import parse_command
from orchestration.resources import build_resources


def test_the_dbt_resource_builds_on_the_target_the_setting_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTACT_WAREHOUSE_DBT_TARGET", raising=False)
    assert build_resources()["dbt"].target is None  # the profile's default: DuckDB's build file
    monkeypatch.setenv("CONTACT_WAREHOUSE_DBT_TARGET", "postgres")
    dbt = build_resources()["dbt"]
    assert dbt.target == "postgres"  # DbtCliResource passes it to every dbt command as --target
    assert "CONTACT_WAREHOUSE_DBT_TARGET" in known_settings()


def test_the_manifest_is_parsed_for_that_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off DuckDB the Python models are disabled: a manifest parsed for DuckDB would make the job wait for them."""
    monkeypatch.delenv("CONTACT_WAREHOUSE_DBT_TARGET", raising=False)
    assert "--target" not in parse_command()
    monkeypatch.setenv("CONTACT_WAREHOUSE_DBT_TARGET", "spark")
    assert parse_command()[-2:] == ["--target", "spark"]


def test_the_target_names_its_engine() -> None:
    assert target_type(None) == "duckdb"
    assert target_type("dev") == "duckdb"
    assert target_type("postgres") == "postgres"
    assert target_type("spark") == "spark"
    with pytest.raises(EngineMartsError, match="no target 'sparkk'"):
        target_type("sparkk")


def test_an_engine_it_cannot_read_the_marts_of_is_refused(tmp_path) -> None:
    with pytest.raises(EngineMartsError, match="snowflake target is not supported"):
        copy_engine_marts(tmp_path / "warehouse.duckdb", "snowflake")
    assert copy_engine_marts(tmp_path / "warehouse.duckdb", "duckdb").tables == {}
    assert not (tmp_path / "warehouse.duckdb").exists()


def _manifest(path, columns: dict[str, dict[str, str]]) -> None:
    """A manifest with one mart per entry: its columns and their documented types."""
    nodes = {
        f"model.contact_warehouse.{name}": {
            "name": name,
            "resource_type": "model",
            "config": {"schema": "marts"},
            "description": f"{name} described",
            "columns": {c: {"data_type": kind, "description": f"{c} described"} for c, kind in types.items()},
        }
        for name, types in columns.items()
    }
    path.write_text(json.dumps({"nodes": nodes}))


def test_spark_marts_are_copied_with_their_documented_types_and_an_empty_one_keeps_its_columns(tmp_path) -> None:
    """Spark's rank() is an int and an empty table has no file: the copy has the YAML's types and columns."""
    manifest = tmp_path / "manifest.json"
    _manifest(manifest, {"mart_a": {"k": "varchar", "n": "bigint", "x": "double"}, "mart_empty": {"k": "varchar"}})
    marts = tmp_path / "spark-warehouse" / "marts.db"
    (marts / "mart_a").mkdir(parents=True)
    (marts / "mart_empty").mkdir()
    with duckdb.connect() as con:
        part = marts / "mart_a" / "part-00000.parquet"
        con.execute(f"copy (select 'a' as k, 1::integer as n, 0.5::float as x) to '{part}' (format parquet)")
    build = tmp_path / "warehouse.duckdb"
    environ = {"CONTACT_WAREHOUSE_SPARK_WAREHOUSE": str(tmp_path / "spark-warehouse")}
    copied = copy_engine_marts(build, "spark", manifest, environ)
    assert copied.tables == {"mart_a": 1, "mart_empty": 0} and copied.empty == ["mart_empty"]
    with duckdb.connect(str(build), read_only=True) as con:
        types = con.execute(
            "select table_name, column_name, data_type, comment from duckdb_columns() where schema_name = 'marts'"
            " order by all"
        ).fetchall()
        assert con.execute("select comment from duckdb_tables() where table_name = 'mart_a'").fetchone() == (
            "mart_a described",
        )
    assert types == [
        ("mart_a", "k", "VARCHAR", "k described"),
        ("mart_a", "n", "BIGINT", "n described"),
        ("mart_a", "x", "DOUBLE", "x described"),
        ("mart_empty", "k", "VARCHAR", "k described"),
    ]


def test_a_column_the_yaml_does_not_document_is_refused_and_the_build_file_keeps_its_marts(tmp_path) -> None:
    manifest = tmp_path / "manifest.json"
    _manifest(manifest, {"mart_a": {"k": "varchar"}})
    folder = tmp_path / "spark-warehouse" / "marts.db" / "mart_a"
    folder.mkdir(parents=True)
    build = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts; create table marts.mart_a as select 'old' as k")
        con.execute(f"copy (select 'new' as k, 1 as extra) to '{folder / 'part-0.parquet'}' (format parquet)")
    environ = {"CONTACT_WAREHOUSE_SPARK_WAREHOUSE": str(tmp_path / "spark-warehouse")}
    with pytest.raises(EngineMartsError, match=r"mart mart_a: no documented data_type for \['extra'\]"):
        copy_engine_marts(build, "spark", manifest, environ)
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("select k from marts.mart_a").fetchall() == [("old",)]
