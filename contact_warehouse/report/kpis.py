"""Headline KPIs: numerators and denominators summed from the marts per day and week, and the periods compared.

The last date with data is usually cut short by the export (evening contacts spill into the next UTC date), so
the tiles compare the latest COMPLETE day and week: days before the last date, weeks that end before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from contact_warehouse.report.data import SCHEMA, MartMissing, Serving
from contact_warehouse.report.metrics import metric

# First-contact resolution needs engagement_window_days of hindsight: a period counts once this share of its
# engagements is closed (recent days have almost none, and the few that are closed are the quickly resolved).
FCR_MATURITY = 0.8
DAILY_MART = "mart_cockpit_daily"  # the headline KPIs' day rows, with every metric's measures


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    mart: str
    numerator: str  # SQL aggregate over the mart's rows of one period (from the semantic layer: metric_kpi)
    denominator: str | None  # None: the KPI is a count
    unit: str  # count, pct, nps, seconds
    higher_is_better: bool | None
    definition: tuple[str, str]  # (model, column) whose glossary text defines the KPI
    mature: tuple[str, str] | None = None  # (closed, all): the period counts when closed >= FCR_MATURITY * all
    where: str = "true"


@dataclass(frozen=True)
class Point:
    numerator: float
    denominator: float | None
    mature: bool = True

    @property
    def value(self) -> float | None:
        if self.denominator is None:
            return self.numerator
        return self.numerator / self.denominator if self.denominator else None


@dataclass
class Series:
    kpi: Kpi
    day: dict[date, Point] = field(default_factory=dict)
    week: dict[date, Point] = field(default_factory=dict)

    def value(self, grain: str, period: date) -> float | None:
        point = (self.day if grain == "day" else self.week).get(period)
        if point is None or not point.mature:
            return None
        return point.value


@dataclass(frozen=True)
class Calendar:
    first_date: date
    last_date: date  # the last date with data, taken as partial

    @property
    def last_complete_day(self) -> date:
        return self.last_date - timedelta(days=1)

    @property
    def last_complete_week(self) -> date:
        return monday(self.last_date) - timedelta(days=7)

    def is_complete_week(self, week_start: date) -> bool:
        return week_start >= self.first_date and week_start + timedelta(days=6) < self.last_date


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def calendar(db: Serving, marts: list[str]) -> Calendar:
    """First and last date with data at the day grain: mart_resolution's (every interaction), else any KPI mart's."""
    candidates = ["mart_resolution"] if db.has("mart_resolution") else [m for m in marts if db.has(m)]
    if not candidates:
        raise MartMissing("mart_resolution")
    union = " union all ".join(
        f"select period_start from {SCHEMA}.{m} where period_grain = 'day'" for m in dict.fromkeys(candidates)
    )
    first, last = db.rows(f"select min(period_start), max(period_start) from ({union})")[0]
    if first is None:
        raise MartMissing(candidates[0])
    return Calendar(first, last)


def _periods(db: Serving, mart: str) -> str:
    """The mart's day and week rows: its own roll-up rows, or for a day-grain mart (`activity_date`, such as
    mart_cockpit_daily) its days and the weeks (from Monday) they fall in."""
    if "period_grain" in db.tables[mart]:
        return f"(select * from {SCHEMA}.{mart} where period_grain in ('day', 'week'))"
    week = "cast(date_trunc('week', activity_date) as date)"
    return (
        f"(select 'day' as period_grain, activity_date as period_start, * from {SCHEMA}.{mart} union all "
        f"select 'week' as period_grain, {week} as period_start, * from {SCHEMA}.{mart})"
    )


def metric_kpi(
    key: str, name: str, label: str, unit: str, higher_is_better: bool | None, definition: tuple[str, str]
) -> Kpi:
    """A headline KPI summed from mart_cockpit_daily with the semantic layer's definition of metric `name`."""
    kpi = metric(name)
    denominator = f"sum({kpi.denominator.expr})" if kpi.denominator else None
    mature = None
    if name == "fcr_rate":  # a period's FCR counts once FCR_MATURITY of its engagements are closed
        mature = (
            f"sum({kpi.denominator.expr})" if kpi.denominator else "1",
            f"sum({metric('engagements').numerator.expr})",
        )
    return Kpi(key, label, DAILY_MART, f"sum({kpi.numerator.expr})", denominator, unit, higher_is_better, definition,
               mature)  # fmt: skip


def metric_total(db: Serving, name: str) -> Point | None:
    """Metric `name` over every day of mart_cockpit_daily (None without the mart): its measures summed, divided
    by Point.value."""
    if not db.has(DAILY_MART):
        return None
    kpi = metric(name)
    denominator = f"sum({kpi.denominator.expr})" if kpi.denominator else "null"
    numerator, total = db.rows(f"select sum({kpi.numerator.expr}), {denominator} from {SCHEMA}.{DAILY_MART}")[0]
    return Point(float(numerator or 0), None if kpi.denominator is None else float(total or 0))


def load_series(db: Serving, kpi: Kpi) -> Series:
    db.require(kpi.mart)
    denominator = kpi.denominator or "null"
    closed, total = kpi.mature or ("1", "1")
    rows = db.rows(
        f"""select period_grain, period_start, {kpi.numerator}, {denominator}, {closed}, {total}
            from {_periods(db, kpi.mart)} as periods
            where ({kpi.where})
            group by period_grain, period_start"""
    )
    series = Series(kpi)
    for grain, start, num, den, closed_n, total_n in rows:
        mature = kpi.mature is None or (total_n or 0) == 0 or (closed_n or 0) >= FCR_MATURITY * total_n
        point = Point(float(num or 0), None if kpi.denominator is None else float(den or 0), mature)
        (series.day if grain == "day" else series.week)[start] = point
    return series


@dataclass(frozen=True)
class Comparison:
    grain: str  # day or week
    period: date | None
    value: float | None
    previous: date | None
    previous_value: float | None
    note: str = ""

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous_value is None:
            return None
        return self.value - self.previous_value


def compare(series: Series, cal: Calendar, grain: str) -> Comparison:
    """The latest complete period with a (mature) value against the period before it."""
    step = timedelta(days=1 if grain == "day" else 7)
    latest = cal.last_complete_day if grain == "day" else cal.last_complete_week
    period = latest
    while period >= cal.first_date - step and series.value(grain, period) is None:
        period -= step
    if period < cal.first_date - step:
        return Comparison(grain, None, None, None, None, "no data")
    previous = period - step
    value, previous_value = series.value(grain, period), series.value(grain, previous)
    note = ""
    if grain == "week" and series.kpi.unit == "count" and not cal.is_complete_week(previous):
        previous_value, note = None, "previous week partial"
    if grain == "week" and series.kpi.unit == "count" and not cal.is_complete_week(period):
        note = "partial week"
    return Comparison(grain, period, value, previous, previous_value, note)
