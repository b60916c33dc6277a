"""Resources: the warehouse DuckDB file (one env var shared with dbt's profiles.yml) and the dbt CLI."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from contact_warehouse.loading.loader import connect
from orchestration.project import dbt_project
from orchestration.settings import dbt_executable, landing_dir, profiles_dir, warehouse_db


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
        return connect(self.database_path())


def build_resources() -> dict[str, object]:
    return {
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(
            project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir), dbt_executable=dbt_executable()
        ),
    }
