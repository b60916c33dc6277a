"""The dbt project as Dagster sees it. Only the DbtProject lives here: `dagster-dbt project
prepare-and-package --file orchestration/project.py` imports this module and must not meet @dbt_assets."""

import subprocess

from dagster_dbt import DbtProject

from contact_warehouse.settings import DBT_PROJECT_DIR, dbt_executable, ensure_warehouse_env

ensure_warehouse_env()

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


def prepare_manifest(force: bool = False) -> None:
    """Write target/manifest.json with `dbt parse` (the venv's dbt), when missing or when forced."""
    if force or not dbt_project.manifest_path.exists():
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            check=True,
        )


prepare_manifest()
