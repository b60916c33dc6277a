"""Resources: the warehouse DuckDB file (one env var shared with dbt's profiles.yml) and the dbt CLI."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

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


def build_resources() -> dict[str, object]:
    project = dbt_project()
    return {
        "warehouse": WarehouseResource(),
        # CONTACT_WAREHOUSE_DBT_TARGET: the profile's target dbt builds on (README "Scaling out"); None, its default.
        "dbt": DbtCliResource(
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
