"""Shared fixtures: a throw-away warehouse file per test, telemetry off, the dbt manifest prepared once."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from contact_warehouse.settings import DBT_PROJECT_DIR, DEFAULT_LANDING_DIR, TELEMETRY_ENV, dbt_executable

FIXTURES = Path(__file__).parent / "fixtures"

for _name, _value in TELEMETRY_ENV.items():
    os.environ[_name] = _value
# Test fixtures are complete when written: the loader's settle delay for files still being written is off.
os.environ.setdefault("CONTACT_WAREHOUSE_SETTLE_SECONDS", "0")


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh warehouse file; its name stays warehouse.duckdb (dbt-duckdb's database name)."""
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    db.parent.mkdir()
    monkeypatch.setenv("CONTACT_WAREHOUSE_DB", str(db))
    yield db


def run_dbt(args: Sequence[str], db: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the venv's dbt on the project against ``db``; fails the test with dbt's output on error.

    dbt parses the whole project again (about 10 s of CPU) whenever the profile's connection differs from the last
    parse's, and the database path is part of it: each test's own warehouse forced a full parse. dbt is started in
    the warehouse's folder with the path relative to it (its file name, always ``warehouse.duckdb``), so the
    profile is the same for every test and dbt parses partially; the file opened is the same."""
    db = Path(db).resolve()
    env = {**os.environ, "CONTACT_WAREHOUSE_DB": db.name, **(extra_env or {})}
    result = subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env,
        cwd=db.parent,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def load_landing(db: Path, landing: Path, profiles_dir: Path | None = None) -> None:
    """Load every export of a landing folder into ``db`` with the loader (no Dagster), as the raw assets do."""
    from contact_warehouse.loading.loader import connect_for_loading, load_export
    from contact_warehouse.loading.sources import EXPORTS

    con = connect_for_loading(db)
    try:
        for export in EXPORTS:
            load_export(con, export.name, landing, profiles_dir)
    finally:
        con.close()


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (a session fixture cannot use monkeypatch), then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def python_models() -> list[str]:
    """The dbt project's Python models (staffing forecast and actuals, predictions), found by their files."""
    return sorted(path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.py"))


# `dbt build` arguments for a test about loading and the SQL marts: every SQL model and data test, without the
# Python models and what reads them (scikit-learn and statsforecast fits on a handful of fixture rows, their own
# tests: test_predictions.py, test_staffing_forecast.py) nor unit tests (test_dbt_unit_tests.py runs those).
WITHOUT_PYTHON_MODELS = [f"{name}+" for name in python_models()]
SQL_BUILD = ["build", "--exclude", "test_type:unit", *WITHOUT_PYTHON_MODELS]


@pytest.fixture
def dbt():
    """The run_dbt helper, as a fixture so test modules need not import conftest."""
    return run_dbt


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away DAGSTER_HOME with the project's dagster.yaml (pools, run queue, storage under tmp_path)."""
    import shutil

    home = tmp_path / "dagster_home"
    (home / "storage").mkdir(parents=True)
    shutil.copy(Path(__file__).parent.parent / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_STORAGE_DIR", str(home / "storage"))
    return home


# ------------------------------------------------------------------------ `contact-warehouse run`, as users run it

CLI = str(Path(sys.executable).parent / "contact-warehouse")


def user_env(**settings: str) -> dict[str, str]:
    """The environment of a user's shell: no project setting but those given; an ephemeral Dagster instance."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_WAREHOUSE_") and k != "DAGSTER_HOME"}
    return {**env, **settings}


def cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class CliRun:
    """One `contact-warehouse run` (a subprocess) into a fresh warehouse, and the files it made: shared, read-only."""

    root: Path
    landing: Path
    db: Path
    result: subprocess.CompletedProcess
    started: float  # time.time() when the run started

    @property
    def lines(self) -> list[str]:
        return self.result.stdout.splitlines()

    def summary(self, label: str) -> str:
        (line,) = [line for line in self.lines if line.startswith(label)]
        return line[len(label) :].strip()

    @property
    def serving(self) -> Path:
        return self.db.parent / "serving.duckdb"

    @property
    def report(self) -> Path:
        return self.db.parent / "report" / "index.html"

    @property
    def log(self) -> Path:
        return Path(self.summary("log:"))

    def succeeded(self) -> CliRun:
        """This run, after failing the calling test with the run's own output when it did not succeed."""
        if self.result.returncode != 0:
            pytest.fail(
                f"contact-warehouse run exited {self.result.returncode}:\n{self.result.stdout}{self.result.stderr}"
            )
        return self


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The README's `make run` (`contact-warehouse run`: the bundled sample in seeds/, the demo's key) into a fresh
    warehouse folder; the suite's one build of the sample, whose serving file and report the report and serving-file
    tests read, and whose warehouse the planted-truth tests read (`pipeline_run`)."""
    root = tmp_path_factory.mktemp("sample_run")
    db = root / "data" / "warehouse.duckdb"
    started = time.time()
    result = cli("run", "--db", str(db), env=user_env(), cwd=root, timeout=1800)
    return CliRun(root, DEFAULT_LANDING_DIR, db, result, started)


@dataclass(frozen=True)
class PipelineRun:
    """The generated month of the planted-truth tests, built by the whole pipeline: read-only."""

    landing: Path
    db: Path
    serving: Path
    truths: dict
    success: bool

    def query(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        import duckdb

        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def pipeline_run(sample_run: CliRun) -> PipelineRun:
    """The session's `contact-warehouse run` of the bundled sample, seen as the generated month with its planted
    truths: seeds/ is the generator's month (seed 42, 1,500 customers, 28 days) byte for byte, which
    test_generator.py checks, so a second whole run of the same files (the Dagster job in-process) would prove
    nothing more."""
    import json

    truths = json.loads((sample_run.landing / "planted_truths.json").read_text())
    return PipelineRun(sample_run.landing, sample_run.db, sample_run.serving, truths, sample_run.result.returncode == 0)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """`contact-warehouse run` on the small landing folder (tests/small_landing.py) outside the demo (so with a random
    key in pii.key), a var at its default value passed through to dbt build; shared by the CLI and publication
    tests, which copy its warehouse when they change it."""
    from small_landing import write_landing

    root = tmp_path_factory.mktemp("small_run")
    landing = write_landing(root / "landing")
    db = root / "data" / "warehouse.duckdb"
    started = time.time()
    result = cli(
        "run",
        "--landing",
        str(landing),
        "--vars",
        "{session_gap_minutes: 30}",
        env=user_env(CONTACT_WAREHOUSE_DB=str(db)),
        cwd=root,
    )
    return CliRun(root, landing, db, result, started)
