"""A landing folder of generated history plus the next day's delivery, kept apart: what the benchmark
measures the nightly increment on, and what tests use to check that an increment equals a rebuild."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .core import generate

START_DATE = date(2026, 10, 5)
# Every size's history ends on the same day, START_DATE + HISTORY_END_DAYS - 1, and its next day is the same calendar
# day: a longer history starts earlier rather than running past it. (120 days from START_DATE ran into the real
# future, and the expectations rightly refuse contacts dated after now: the long size's full build failed.) The same
# next day (a Wednesday) keeps the long and medium increments comparable: the generator's volume follows the weekday.
HISTORY_END_DAYS = 30


def start_date_for(days: int) -> date:
    """The first day of a ``days``-day history that ends on the day a 30-day history from START_DATE ends."""
    return START_DATE - timedelta(days=max(0, days - HISTORY_END_DAYS))


@dataclass(frozen=True)
class Size:
    """A data set size: the generator's CRM customers (about 19.5 events per customer and month)."""

    name: str
    customers: int
    approx_events: int


def _relative_files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()}


def _export_file_names(landing: Path) -> list[Path]:
    from contact_warehouse.loading.landing import export_files
    from contact_warehouse.loading.sources import EXPORTS

    return [path for export in EXPORTS for path in export_files(landing, export)]


def generate_data(work: Path, size: Size, seed: int, days: int) -> dict[str, Any]:
    """The landing folder with ``days`` days, and the next day's new files in ``next_day/`` (same layout)."""
    landing, longer, next_day = work / "landing", work / "exports_next", work / "next_day"
    began = time.perf_counter()
    history = generate(landing, size.customers, days, seed, start_date=start_date_for(days))
    generate_seconds = time.perf_counter() - began
    # The generator is prefix-stable: one more day writes the same files for the first ``days`` days.
    extended = generate(longer, size.customers, days + 1, seed, start_date=start_date_for(days))
    old, new = _relative_files(landing), _relative_files(longer)
    added = sorted(name for name in new if name not in old and name != "planted_truths.json")
    for name in added:
        target = next_day / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(new[name], target)
    shutil.rmtree(longer)
    files = _export_file_names(landing)
    return {
        "customers": size.customers,
        "days": days,
        "seed": seed,
        "events": history.total_events,
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "generate_seconds": round(generate_seconds, 3),
        "increment_events": extended.total_events - history.total_events,
        "increment_files": len(added),
        "increment_bytes": sum((next_day / name).stat().st_size for name in added),
    }


def add_next_day(work: Path) -> None:
    """Deliver the next day: copy its new files into the landing folder."""
    next_day, landing = work / "next_day", work / "landing"
    for name, path in _relative_files(next_day).items():
        target = landing / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
