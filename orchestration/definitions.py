"""Assembles the Dagster code location: raw loaders, dbt assets (dbt tests as checks), expectation checks,
publication, the storage maintenance, the jobs (the nightly one and the storage step alone), the schedule and
sensors, resources. Every run executes in one process (see jobs.py).

``defs`` is loaded lazily (``@dg.definitions``): Dagster's tools call it when they load the code location, and
so do the CLI and the tests (``defs()``); importing this module reads no manifest and runs no dbt."""

from functools import cache

import dagster as dg

from contact_warehouse.settings import turn_off_telemetry
from orchestration.assets.dbt import warehouse_dbt_assets
from orchestration.assets.publication import publication
from orchestration.assets.raw import raw_assets
from orchestration.assets.report import cockpit_report
from orchestration.assets.storage import vacuum_job, warehouse_storage
from orchestration.checks import build_expectation_checks
from orchestration.freshness import source_freshness
from orchestration.jobs import warehouse_job
from orchestration.resources import WarehouseLockResource, build_resources
from orchestration.schedules import nightly_schedule
from orchestration.sensors import landing_sensor, orphaned_run_sensor


@dg.definitions
def defs() -> dg.Definitions:
    return _definitions()


@cache
def _definitions() -> dg.Definitions:
    """Built once per process, like the module-level Definitions it replaces."""
    turn_off_telemetry()
    dbt_assets = warehouse_dbt_assets()
    return dg.Definitions(
        assets=[*raw_assets, dbt_assets, publication(), cockpit_report, warehouse_storage],
        asset_checks=[*build_expectation_checks(dbt_assets), source_freshness()],
        jobs=[warehouse_job, vacuum_job],
        schedules=[nightly_schedule],
        sensors=[landing_sensor, orphaned_run_sensor],
        resources={**build_resources(), "warehouse_lock": WarehouseLockResource()},
        executor=dg.in_process_executor,
    )
