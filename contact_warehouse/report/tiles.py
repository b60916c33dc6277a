"""Headline tiles: the latest complete day and week of each KPI, with the change against the period before."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from contact_warehouse.report.data import MartMissing, Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.kpis import Calendar, Comparison, Kpi, Series, compare, load_series


@dataclass
class TileRow:
    grain: str
    date: str
    period_label: str
    value: str
    delta: str
    tone: str
    previous_label: str


@dataclass
class Tile:
    key: str
    label: str
    definition: str
    rows: list[TileRow] = field(default_factory=list)
    missing: str | None = None


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "pct":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        return f"{value:.1f} s"
    return f"{value:.1f}"


def format_delta(comparison: Comparison, unit: str) -> str:
    if comparison.delta is None:
        return comparison.note or "no previous value"
    delta = comparison.delta
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "■"
    if unit == "count":
        text = f"{delta / comparison.previous_value * 100:+.1f}%" if comparison.previous_value else f"{delta:+,.0f}"
    elif unit == "pct":
        text = f"{delta * 100:+.1f} pp"
    elif unit == "seconds":
        text = f"{delta:+.1f} s"
    else:
        text = f"{delta:+.1f} pts"
    return f"{arrow} {text}" + (f" ({comparison.note})" if comparison.note else "")


def tone(comparison: Comparison, higher_is_better: bool | None) -> str:
    delta = comparison.delta
    if delta is None or higher_is_better is None or abs(delta) < 1e-12:
        return "neutral"
    return "good" if (delta > 0) == higher_is_better else "bad"


def _row(comparison: Comparison, kpi: Kpi) -> TileRow:
    if comparison.period is None:
        return TileRow(comparison.grain, "", f"{comparison.grain}: no data", "–", "", "neutral", "")
    if comparison.grain == "day":
        label = f"day {comparison.period:%a %d %b}"
        previous = f"vs {comparison.previous:%a %d %b}: {format_value(comparison.previous_value, kpi.unit)}"
    else:
        label = f"week of {comparison.period:%d %b}"
        previous = f"vs week of {comparison.previous:%d %b}: {format_value(comparison.previous_value, kpi.unit)}"
    return TileRow(
        grain=comparison.grain,
        date=comparison.period.isoformat(),
        period_label=label,
        value=format_value(comparison.value, kpi.unit),
        delta=format_delta(comparison, kpi.unit),
        tone=tone(comparison, kpi.higher_is_better),
        previous_label=previous,
    )


def build_tile(db: Serving, kpi: Kpi, cal: Calendar | None, defs: Definitions) -> tuple[Tile, Series | None]:
    tile = Tile(kpi.key, kpi.label, defs.of(*kpi.definition))
    try:
        series = load_series(db, kpi)
    except MartMissing as exc:
        tile.missing = str(exc)
        return tile, None
    except duckdb.Error as exc:
        tile.missing = f"{kpi.mart} unreadable ({str(exc).splitlines()[0][:120]})"
        return tile, None
    if cal is None:
        tile.missing = "mart_resolution missing (the calendar of the data)"
        return tile, None
    tile.rows = [_row(compare(series, cal, grain), kpi) for grain in ("day", "week")]
    return tile, series
