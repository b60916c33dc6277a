"""A run on a full disk says so first: the failing step and "No space left on device", not the "cannot rollback"
or aborted transaction that follows it. The warehouse lives on a 3 MiB tmpfs (needs root, else skipped)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))  # the shared landing folder of tests/test_publication.py
from test_publication import write_landing  # noqa: E402

CLI = str(Path(sys.executable).parent / "contact-warehouse")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_run_on_a_full_disk_names_the_step_and_the_full_disk_first(small_disk: Path, tmp_path: Path) -> None:
    landing = write_landing(tmp_path / "landing")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_WAREHOUSE_") and k != "DAGSTER_HOME"}
    env.update(
        CONTACT_WAREHOUSE_DB=str(small_disk / "warehouse.duckdb"),
        CONTACT_WAREHOUSE_LOG_DIR=str(tmp_path / "logs"),  # the log on another disk: it must show the story
    )
    result = subprocess.run(
        [CLI, "run", "--landing", str(landing)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    first_failure = next(line for line in lines if "FAILED" in line)
    assert "No space left on device" in first_failure, result.stdout
    summary = next(line for line in lines if line.startswith("run FAILED at "))
    step, cause = summary.removeprefix("run FAILED at ").split(": ", 1)
    assert step.startswith(("load ", "dbt build", "publication")), summary
    assert "No space left on device" in cause and not cause.lower().startswith("cannot rollback"), summary
    assert lines[-1].startswith("failed:") and "No space left on device" in lines[-1]
