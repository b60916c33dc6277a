"""The dbt project as Dagster sees it, built when first asked for, never at import: importing the definitions (a
test, the layout check, ``dagster definitions validate``) runs no dbt and leaves the environment alone.

``dbt_project()`` is a cached factory, as in dagster-open-platform (``defs/dbt/resources.py``): the first call
builds the ``DbtProject``, re-parses under ``dagster dev`` (``prepare_if_dev``) and otherwise parses only when the
manifest is missing. ``make manifest`` (``python -m orchestration.project``) and ``contact-warehouse run`` parse
with ``prepare_manifest(force=True)``; ``dagster-dbt project prepare-and-package`` would find no module-level
``DbtProject`` here and is not used (DECISIONS.md, "The layout")."""

from __future__ import annotations

import subprocess
from functools import cache

from dagster_dbt import DbtProject

from contact_warehouse.settings import DBT_PROJECT_DIR, dbt_executable, dbt_target

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


@cache
def dbt_project() -> DbtProject:
    """The project, its manifest ready: parsed again under ``dagster dev``, else parsed once if missing."""
    # Parsed for the target the nightly job builds on (CONTACT_WAREHOUSE_DBT_TARGET): off DuckDB, the dbt Python models
    # and the marts on them are disabled, so they are no assets the job would wait for (README "Scaling out").
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target())
    project.prepare_if_dev()
    prepare_manifest()
    return project


def prepare_manifest(force: bool = False) -> None:
    """Write target/manifest.json with `dbt parse` (the venv's dbt), when missing or when forced."""
    if force or not MANIFEST_PATH.exists():
        subprocess.run(parse_command(), check=True)


def parse_command() -> list[str]:
    """`dbt parse` of the project for the chosen target (the profile's default when none is set)."""
    target = dbt_target()
    return [
        dbt_executable(),
        "parse",
        "--quiet",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        *(["--target", target] if target else []),
    ]


if __name__ == "__main__":
    prepare_manifest(force=True)
