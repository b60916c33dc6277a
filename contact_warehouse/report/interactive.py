"""The filterable part of the cockpit: day-grain rows of the marts embedded in the page as JSON, re-summed in the
browser for the filters (date range, channel, queue, intent, agent).

Only counts travel: every rate the page shows is a metric of the semantic layer (`report.metrics`), the ratio of
two measures summed over the rows the filters keep; tests/test_report.py checks each against the mart's rate
column row by row, and that no KPI formula is written in the report. A panel filters only by the dimensions its
mart has and says which filters it ignores.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from contact_warehouse.report.data import SCHEMA, MartMissing, Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.kpis import FCR_MATURITY, Series
from contact_warehouse.report.metrics import metric
from contact_warehouse.report.panels import PLOTLY_CONFIG, Panel

DAILY_MART = "mart_cockpit_daily"
QUEUE_MART = "mart_queue_performance"
AGENT_MART = "mart_agent_scorecard"
FILTERS = ("date", "channel", "queue", "intent", "agent")

# The industry convention (80 % of calls answered within 20 s) when the serving file does not carry the target.
DEFAULT_TARGET_SHARE = 0.8
DEFAULT_TARGET_SECONDS = 20
_IDENTIFIERS = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


@dataclass(frozen=True)
class Rate:
    """A KPI as the semantic layer defines it: sum(numerator measure) / sum(denominator measure) over the rows the
    filters keep. `column` is the metric's name, which is also the mart's rate column; `measures` gives each
    measure's SQL over the mart's row (a column, or an expression such as NPS's 100 * (promoters - detractors)).

    `numerator` is a tuple and `scale` 1 for the page's script, which sums the numerator terms and divides."""

    column: str
    label: str
    numerator: tuple[str, ...]
    denominator: str | None  # None: a count
    unit: str  # count, pct, nps, seconds, duration
    scale: float = 1.0
    higher_is_better: bool | None = None
    measures: dict[str, str] = field(default_factory=dict)


def metric_rate(name: str, label: str, unit: str, higher_is_better: bool | None = None) -> Rate:
    """The page's rate for one metric of the semantic layer: its measures, never a formula of the report's own."""
    kpi = metric(name)
    parts = [kpi.numerator] + ([kpi.denominator] if kpi.denominator else [])
    return Rate(name, label, (kpi.numerator.name,), kpi.denominator.name if kpi.denominator else None, unit,
                higher_is_better=higher_is_better, measures={m.name: m.expr for m in parts})  # fmt: skip


# Which metrics each view shows, with the label and unit it shows them in and which way is good: presentation only.
DAILY_RATES = [
    metric_rate("interactions", "Volume (interactions)", "count"),
    metric_rate("nps", "NPS", "nps", True),
    metric_rate("csat_rate", "CSAT (top-two box)", "pct", True),
    metric_rate("fcr_rate", "First-contact resolution", "pct", True),
    metric_rate("repeat_contact_rate", "Repeat contacts", "pct", False),
    metric_rate("asa_seconds", "Average speed of answer", "seconds", False),
    metric_rate("abandonment_rate", "Abandonment", "pct", False),
    metric_rate("service_level", "Service level", "pct", True),
    metric_rate("aht_seconds", "Average handle time", "duration", False),
    metric_rate("transfer_rate", "Transfer rate", "pct", False),
    metric_rate("self_service_failure_rate", "Self-service failure", "pct", False),
    metric_rate("negative_sentiment_share", "Negative sentiment", "pct", False),
]
QUEUE_RATES = [
    metric_rate("service_level", "Service level", "pct", True),
    metric_rate("asa_seconds", "ASA", "seconds", False),
    metric_rate("abandonment_rate", "Abandonment", "pct", False),
    metric_rate("aht_seconds", "AHT", "duration", False),
    metric_rate("dead_air_rate", "Dead air", "pct", False),
]
AGENT_RATES = [
    metric_rate("aht_seconds", "AHT", "duration", False),
    metric_rate("fcr_rate", "FCR", "pct", True),
    metric_rate("csat_rate", "CSAT", "pct", True),
    metric_rate("transfer_out_rate", "Transfer-out", "pct", False),
    metric_rate("negative_sentiment_share", "Negative sentiment", "pct", False),
]
# Each agent rate's coaching flag and the team's rate that week (the flag's comparison), from the mart.
AGENT_FLAGS = {
    "fcr_rate": ("is_low_fcr", "team_fcr_rate"),
    "csat_rate": ("is_low_csat", "team_csat_rate"),
    "transfer_out_rate": ("is_high_transfer_out", "team_transfer_out_rate"),
    "negative_sentiment_share": ("is_high_negative_sentiment", "team_negative_sentiment_share"),
}
# The trend charts: the headline KPIs, drawn from the daily mart.
TREND_RATES = ["interactions", "nps", "csat_rate", "fcr_rate", "asa_seconds", "abandonment_rate", "service_level",
               "self_service_failure_rate"]  # fmt: skip


# Where the daily mart's column comes from, for its definition when the glossary has none for the daily mart.
DAILY_SOURCES = {"interactions": "mart_resolution"}


def daily_definition(defs: Definitions, column: str) -> str:
    """The glossary's text for a daily-mart column, else for the same column of the mart it is summed from."""
    source = DAILY_SOURCES.get(column)
    known = (DAILY_MART, column) in defs.kpis or (DAILY_MART, column) in defs.columns
    return defs.of(source, column) if source and not known else defs.of(DAILY_MART, column)


def count_columns(rates: list[Rate]) -> dict[str, str]:
    """Every measure the rates divide, with its SQL over the mart's row."""
    return {name: expr for rate in rates for name, expr in rate.measures.items()}


def _number(value: Any) -> int | float | None:
    if value is None or value != value:  # NULL or NaN: no data
        return None
    if isinstance(value, bool):
        return int(value)
    number = float(value)
    return int(number) if number.is_integer() else round(number, 6)


def _dataset(
    db: Serving, mart: str, dims: dict[str, str], counts: dict[str, str], where: str, extra: list[str]
) -> dict:
    """The mart's rows (grouped by `dims`, each measure summed) in columns; each dimension dictionary-encoded (a
    list of its values and one index per row) to keep the page small. A measure whose columns the mart lacks is
    listed as missing."""
    columns = db.tables[mart]
    present = [c for c, expr in counts.items() if set(_IDENTIFIERS.findall(expr)) <= columns]
    kept = [c for c in extra if c in columns and c not in present]
    select = [f'cast({expr} as varchar) as "{name}"' for name, expr in dims.items()]
    select += [f'sum({counts[c]}) as "{c}"' for c in present] + [f'max({c}) as "{c}"' for c in kept]
    frame = db.frame(
        f"select {', '.join(select)} from {SCHEMA}.{mart} where {where} "
        f"group by {', '.join(str(i + 1) for i in range(len(dims)))} order by 1"
    )
    missing = [c for c in counts if c not in present]
    out: dict[str, Any] = {"rows": len(frame), "dims": {}, "counts": {}, "missing": missing}
    for name in dims:
        values = sorted(v for v in frame[name].dropna().unique())
        index = {v: i for i, v in enumerate(values)}
        out["dims"][name] = {"values": values, "codes": [index.get(v, -1) for v in frame[name]]}
    for column in present + kept:
        out["counts"][column] = [_number(v) for v in frame[column].tolist()]
    return out


def _target(db: Serving) -> dict[str, Any]:
    """The service-level target: from the queue mart when it carries one, else the 80/20 convention, said so."""
    columns = db.tables.get(QUEUE_MART, set())
    share_column = next((c for c in ("service_level_target", "target_service_level") if c in columns), None)
    seconds_column = "service_level_seconds" if "service_level_seconds" in columns else None
    share, seconds = DEFAULT_TARGET_SHARE, DEFAULT_TARGET_SECONDS
    found = []
    if share_column:
        (value,) = db.rows(f"select max({share_column}) from {SCHEMA}.{QUEUE_MART}")[0]
        if value is not None:
            share = float(value)
            found.append("share")
    if seconds_column:
        (value,) = db.rows(f"select max({seconds_column}) from {SCHEMA}.{QUEUE_MART}")[0]
        if value is not None:
            seconds = int(value)
            found.append("seconds")
    if len(found) == 2:
        note = f"Target from the serving file: {share:.0%} of calls answered within {seconds} s."
    else:
        note = (
            f"The serving file does not record the target; assumed: {share:.0%} of calls answered within {seconds} s "
            "(the industry convention; the mart counts calls answered within the dbt var service_level_seconds, "
            f"default {DEFAULT_TARGET_SECONDS} s)."
        )
    return {"share": share, "seconds": seconds, "from_serving": len(found) == 2, "note": note}


def _immature(fcr: Series | None) -> dict[str, list[str]]:
    """Days and weeks whose FCR is not known yet (fewer than FCR_MATURITY of their engagements closed)."""
    if fcr is None:
        return {"day": [], "week": []}
    return {
        "day": sorted(d.isoformat() for d, p in fcr.day.items() if not p.mature),
        "week": sorted(d.isoformat() for d, p in fcr.week.items() if not p.mature),
    }


def page_data(db: Serving, defs: Definitions, first: date | None, last: date | None, fcr: Series | None) -> dict:
    """Everything the page's script needs, as one JSON-ready dict."""
    data: dict[str, Any] = {
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
        "filters": list(FILTERS),
        "datasets": {},
        "unavailable": {},
        "rates": {
            "daily": [asdict(r) for r in DAILY_RATES],
            "queues": [asdict(r) for r in QUEUE_RATES],
            "agents": [asdict(r) for r in AGENT_RATES],
        },
        "agent_flags": AGENT_FLAGS,
        "trends": TREND_RATES,
        "fcr_immature": _immature(fcr),
        "target": _target(db),
        "plotly_config": PLOTLY_CONFIG,
        "definitions": {
            "daily": {r.column: daily_definition(defs, r.column) for r in DAILY_RATES},
        },
    }
    specs = {
        "daily": (DAILY_MART, {"date": "activity_date", "channel": "channel", "intent": "intent"},
                  count_columns(DAILY_RATES), "true", []),
        "queues": (QUEUE_MART, {"date": "period_start", "channel": "channel", "queue": "queue", "agent": "agent_id",
                                "intent": "intent"}, count_columns(QUEUE_RATES), "period_grain = 'day'", []),
        "agents": (AGENT_MART, {"week": "week_start", "agent": "agent_id"},
                   {"handled_contacts": "handled_contacts", "handled_calls": "handled_calls",
                    "handled_chats": "handled_chats", **count_columns(AGENT_RATES)}, "true",
                   [*[c for pair in AGENT_FLAGS.values() for c in pair], "coaching_flags",
                    *[r.column for r in AGENT_RATES]]),
    }  # fmt: skip
    for name, (mart, dims, counts, where, extra) in specs.items():
        try:
            db.require(mart)
            for column in dims.values():
                db.column(mart, column)
            data["datasets"][name] = _dataset(db, mart, dims, counts, where, extra)
        except MartMissing as exc:
            data["unavailable"][name] = str(exc)
    return data


def script_json(data: dict) -> str:
    """JSON safe inside <script type="application/json">: no '</' can close the element early."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


# ------------------------------------------------------------------------------------------ panels


def _box(key: str, height: int) -> str:
    return f'<div id="fig-{key}" class="plotly-graph-div js-drawn" style="height:{height}px; width:100%;"></div>'


def _export(table: str) -> str:
    return f'<button type="button" class="csv" data-table="{table}">Download CSV</button>'


def _table(name: str) -> str:
    """An empty table the page's script fills from the selection (``table-<name>``), with its CSV download."""
    return (
        f'<div class="table-wrap"><table class="data" id="table-{name}"></table></div>'
        f'<div class="actions">{_export(name)}</div>'
    )


def trend_panels(defs: Definitions, data: dict) -> list[Panel]:
    """One small chart per headline KPI, drawn by the page's script from the daily mart."""
    rates = {r.column: r for r in DAILY_RATES}
    panels = []
    for column in TREND_RATES:
        rate = rates[column]
        key = f"trend-{column}"
        if "daily" in data["unavailable"]:
            panels.append(Panel(key, rate.label, missing=data["unavailable"]["daily"]))
            continue
        caption = daily_definition(defs, column)
        if rate.unit == "count":
            caption += " The weekly line is the week's mean per complete day."
        if column == "fcr_rate":
            caption += f" Days and weeks with fewer than {FCR_MATURITY:.0%} of their engagements closed are left out."
        panels.append(Panel(key, rate.label, caption, _box(key, 230), dims=("date", "channel", "intent")))
    return panels


def selection_panel(defs: Definitions, data: dict) -> Panel:
    """The headline KPIs of the selection, each with its sample size, and the day rows behind them."""
    if "daily" in data["unavailable"]:
        return Panel("selection", "Your selection", missing=data["unavailable"]["daily"], wide=True)
    items = "".join(
        f'<div class="sel" id="sel-{r.column}" data-rate="{r.column}"><span class="sel-label">{r.label}</span>'
        f'<span class="sel-value">–</span><span class="sel-n"></span></div>'
        for r in DAILY_RATES
    )
    html = f'<div class="sel-grid">{items}</div><div class="actions">{_export("daily")} (one row per day)</div>'
    caption = (
        f"{defs.model(DAILY_MART)} Each value is the sum of its numerator over the sum of its denominator across "
        "the selected days, channels and intents (n = the denominator)."
    )
    return Panel("selection", "Your selection", caption, html, wide=True, dims=("date", "channel", "intent"))


def queue_panels(defs: Definitions, data: dict) -> list[Panel]:
    if "queues" in data["unavailable"]:
        missing = data["unavailable"]["queues"]
        return [Panel("queue-sl", "Service level per queue", missing=missing),
                Panel("queue-table", "Queues against the target", missing=missing, wide=True)]  # fmt: skip
    target = data["target"]
    note = f'<p class="sub target-note">{target["note"]}</p>'
    chart_caption = (
        f"{defs.of(QUEUE_MART, 'service_level')} The line is the target share; green queues meet it. Queues with "
        "no call entering them in the selection (chat) are left out."
    )
    table = note + _table("queues")
    table_caption = " ".join(defs.of(QUEUE_MART, r.column) for r in QUEUE_RATES)
    dims = ("date", "channel", "queue", "agent", "intent")
    return [
        Panel("queue-sl", "Service level per queue against the target", chart_caption, note + _box("queue-sl", 300),
              dims=dims),
        Panel("queue-table", "Queues against the target", table_caption, table, wide=True, dims=dims),
    ]  # fmt: skip


def agent_panel(defs: Definitions, data: dict) -> Panel:
    if "agents" in data["unavailable"]:
        return Panel("agent-scorecard", "Agent scorecard and coaching flags", missing=data["unavailable"]["agents"],
                     wide=True)  # fmt: skip
    absent = data["datasets"]["agents"]["missing"]
    warning = (
        f'<p class="sub">This serving file has no {", ".join(absent)}: those sample sizes are not shown, and the '
        "rates they divide are the mart's own.</p>"
        if absent
        else ""
    )
    html = (
        '<p class="sub">One row per agent and week (Monday), the weeks that overlap the date range, the latest first. '
        "Beside every rate: n, its denominator. Red: a coaching flag (worse than the team that week by more than the "
        "coaching gap, on enough contacts; hover for the team's rate).</p>" + warning + _table("agents")
    )
    caption = " ".join(defs.of(AGENT_MART, r.column) for r in AGENT_RATES) + f" {defs.of(AGENT_MART, 'coaching_flags')}"
    return Panel("agent-scorecard", "Agent scorecard and coaching flags", caption, html, wide=True,
                 dims=("date", "agent"))  # fmt: skip
