"""The nightly job's dbt resource starts no dbt before the one it runs (issue 22: dagster-dbt ran `dbt --version` and
opened a dbt adapter in Dagster's process before every dbt command, about 7 s of CPU a night, for nothing we use)."""

from __future__ import annotations

import inspect
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource
from dagster_dbt.core import resource as dagster_dbt_resource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging import version

from orchestration.resources import NightlyDbtCliResource, build_resources


def test_dagster_dbt_still_calls_the_two_hooks_the_resource_replaces() -> None:
    # If an upgrade of dagster-dbt renames them, the overrides would silently stop saving anything: fail here instead.
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source and "self._initialize_dbt_core_adapter(" in source


def test_the_dbt_version_is_the_installed_dbt_core_without_running_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_subprocess(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_subprocess)  # what `dbt --version` is run with
    dbt = build_resources()["dbt"]
    assert isinstance(dbt, NightlyDbtCliResource)
    assert dbt._cli_version == version.parse(installed_version("dbt-core"))


def test_another_dbt_executable_is_still_asked_its_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "dbt"  # a dbt outside this venv (never run here)
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    asked: list[object] = []

    def fake_version(command: list[str]) -> bytes:
        asked.append(command)
        return b"Core:\n  - installed: 9.8.7\n"

    monkeypatch.setattr(dagster_dbt_resource, "check_output", fake_version)
    dbt = NightlyDbtCliResource(project_dir=str(build_resources()["dbt"].project_dir), dbt_executable=str(other))
    assert dbt._cli_version == version.parse("9.8.7") and asked == [[str(other), "--version"]]


def test_a_dbt_command_opens_no_adapter_in_dagsters_process(monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, object] = {}

    def fake_run(cls: type, **kwargs: object) -> str:
        started.update(kwargs)
        return "invocation"

    monkeypatch.setattr(DbtCliInvocation, "run", classmethod(fake_run))
    assert build_resources()["dbt"].cli(["build"]) == "invocation"
    assert started["adapter"] is None and "build" in started["args"]
