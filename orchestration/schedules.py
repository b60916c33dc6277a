"""The nightly run: the whole job at 02:00 in CONTACT_WAREHOUSE_SCHEDULE_TZ (an IANA zone, default UTC)."""

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from orchestration.jobs import warehouse_job

NIGHTLY_CRON = "0 2 * * *"


def schedule_timezone() -> str:
    """The schedule's time zone; an unknown zone fails loading the definitions rather than running at a guess."""
    name = os.environ.get("CONTACT_WAREHOUSE_SCHEDULE_TZ", "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"CONTACT_WAREHOUSE_SCHEDULE_TZ={name!r} is not an IANA time zone") from error
    return name


nightly_schedule = dg.ScheduleDefinition(
    name="nightly_warehouse",
    job=warehouse_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=schedule_timezone(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 (CONTACT_WAREHOUSE_SCHEDULE_TZ, default UTC): load, build, check, publish.",
)
