"""Resources: the warehouse DuckDB file (one env var shared with dbt's profiles.yml) and the dbt CLI."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dbt.compat import DBT_PYTHON_VERSION
from packaging import version

from contact_warehouse.loading.loader import connect_for_loading
from contact_warehouse.publication.locking import exclusive_warehouse_lock
from contact_warehouse.settings import (
    dbt_executable,
    dbt_target,
    ensure_pii_key,
    ensure_warehouse_env,
    landing_dir,
    make_private,
    private_files,
    profiles_dir,
    warehouse_db,
)
from orchestration.project import dbt_project


class WarehouseResource(dg.ConfigurableResource):
    """Where the exports land and which DuckDB file they load into. Defaults come from the environment
    (CONTACT_WAREHOUSE_DB, CONTACT_WAREHOUSE_LANDING), read when the run starts."""

    database: str = ""
    landing: str = ""
    profiles: str = ""

    def database_path(self) -> str:
        return self.database or str(warehouse_db())

    def landing_path(self) -> str:
        return self.landing or str(landing_dir())

    def profiles_path(self) -> str:
        return self.profiles or str(profiles_dir())

    def connect(self):
        return connect_for_loading(self.database_path())


# dbt's log file of a nightly run at info, not debug: the debug lines (every SQL statement, formatted as JSON under
# Dagster) were ~19 MB and ~7 % of dbt's CPU for the ~1,000 tests of a run; errors, warnings and each node's result
# stay in it, the SQL stays in the run's target/compiled and target/run (DECISIONS.md "dbt's log file at info").
DBT_NIGHTLY_FLAGS = ["--log-level-file", "info"]


class NightlyDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without the two things it does in Dagster's process before each dbt command that this
    project never uses (DECISIONS.md "dbt starts once per invocation, not three times"):

    - ``dbt --version`` in a subprocess, once per resource, to learn the dbt version: a whole dbt start-up (about 3 s
      of CPU) plus a request to PyPI for the latest release. The dbt run is the one installed beside this Python
      (``settings.dbt_executable``), so its version is the dbt-core this process imports.
    - a dbt adapter opened in Dagster's process for every invocation (profile, project and macros loaded: about 3 s of
      CPU), used only by ``fetch_row_counts``/``fetch_column_metadata``, which the dbt step does not call.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if DBT_PYTHON_VERSION is not None and Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return DBT_PYTHON_VERSION
        return super()._cli_version  # another dbt than this venv's: ask it

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def build_resources() -> dict[str, object]:
    project = dbt_project()
    return {
        "warehouse": WarehouseResource(),
        # CONTACT_WAREHOUSE_DBT_TARGET: the profile's target dbt builds on (README "Scaling out"); None, its default.
        "dbt": NightlyDbtCliResource(
            project_dir=project,
            profiles_dir=str(project.profiles_dir),
            dbt_executable=dbt_executable(),
            target=dbt_target(),
            global_config_flags=DBT_NIGHTLY_FLAGS,
        ),
    }


class WarehouseLockResource(dg.ConfigurableResource):
    """Holds the run lock of the build file for as long as the run's resources live: the whole run under the
    in-process executor. ``database`` defaults to CONTACT_WAREHOUSE_DB, read when the run starts."""

    database: str = ""

    def database_path(self) -> Path:
        return Path(self.database) if self.database else warehouse_db()

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseLockResource]:
        owner = f"dagster run {context.run_id}" if context.run_id else "dagster"
        # dbt's profiles.yml and its plugins (the key file beside the warehouse) read CONTACT_WAREHOUSE_DB from the
        # environment dbt inherits: exported when the run starts, never when the definitions are imported.
        ensure_warehouse_env()
        # Whatever starts the run (UI, daemon, CLI, tests): its files are private, its identifiers keyed.
        with private_files(), exclusive_warehouse_lock(self.database_path(), owner, run_id=context.run_id) as path:
            database = self.database_path()
            self._make_private(database)  # created before this version, or by hand: may be readable by everyone
            note = ensure_pii_key()
            if context.log:
                context.log.info(f"Holding the warehouse lock {path} for this run (pid {os.getpid()}).")
                if note:
                    context.log.warning(note)
            try:
                yield self
            finally:
                self._make_private(database)  # created by this run: its mode came from the umask, not its group

    @staticmethod
    def _make_private(database: Path) -> None:
        for file in (database, database.with_name(database.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                make_private(file)
