"""`render_report`: the serving file in, one self-contained HTML cockpit out."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from plotly.offline import get_plotlyjs

from contact_warehouse.report import figures, interactive, intraday, predictions, tickets, voice
from contact_warehouse.report.data import MartMissing, Serving
from contact_warehouse.report.definitions import Definitions, load_definitions
from contact_warehouse.report.kpis import Calendar, Series, calendar, metric_kpi
from contact_warehouse.report.panels import Panel, build
from contact_warehouse.report.script import PAGE_SCRIPT
from contact_warehouse.report.template import PAGE
from contact_warehouse.report.tiles import Tile, build_tile

REPORT_NAME = "index.html"

# The headline tiles: which metrics, labelled how, and whose glossary entry defines them (presentation only; the
# figures are the semantic layer's metrics summed from mart_cockpit_daily).
HEADLINE_KPIS = [
    metric_kpi("volume", "interactions", "Volume (interactions)", "count", None, ("mart_resolution", "interactions")),
    metric_kpi("nps", "nps", "NPS", "nps", True, ("mart_satisfaction", "nps")),
    metric_kpi("csat", "csat_rate", "CSAT (top-two box)", "pct", True, ("mart_satisfaction", "csat_rate")),
    metric_kpi("fcr", "fcr_rate", "First-contact resolution", "pct", True, ("mart_resolution", "fcr_rate")),
    metric_kpi("asa", "asa_seconds", "Average speed of answer", "seconds", False,
               ("mart_queue_performance", "asa_seconds")),
    metric_kpi("abandonment", "abandonment_rate", "Abandonment", "pct", False,
               ("mart_queue_performance", "abandonment_rate")),
    metric_kpi("service_level", "service_level", "Service level", "pct", True,
               ("mart_queue_performance", "service_level")),
    metric_kpi("self_service_failure", "self_service_failure_rate", "Self-service failure", "pct", False,
               ("mart_self_service_failure", "self_service_failure_rate")),
]  # fmt: skip


@dataclass
class Section:
    title: str
    panels: list[Panel] = field(default_factory=list)
    html: str = ""
    small: bool = False


def headline(db: Serving, defs: Definitions) -> tuple[Calendar | None, list[Tile], list[Series]]:
    """The tiles of every headline KPI, and the day and week series behind them (for the trends)."""
    kpis = HEADLINE_KPIS
    try:
        cal = calendar(db, [k.mart for k in kpis])
    except (MartMissing, duckdb.Error):
        cal = None
    tiles, series = [], []
    for kpi in kpis:
        tile, loaded = build_tile(db, kpi, cal, defs)
        tiles.append(tile)
        if loaded is not None:
            series.append(loaded)
    return cal, tiles, series


def sections(db: Serving, defs: Definitions, data: dict) -> list[Section]:
    p = functools.partial
    return [
        Section("Your selection", [interactive.selection_panel(defs, data)]),
        Section("Trends: daily, with the weekly roll-up", interactive.trend_panels(defs, data), small=True),
        Section("Queues against the service-level target", interactive.queue_panels(defs, data)),
        Section(
            "Staffing: intraday, forecast and Erlang C",
            [
                build(
                    "staffing-intraday",
                    "Offered vs forecast, required vs actual agents, service level per interval",
                    p(intraday.intraday, db, defs),
                    wide=True,
                ),
                build("staffing-accuracy", "Forecast backtest per queue", p(intraday.accuracy, db, defs), wide=True),
            ],
        ),  # fmt: skip
        Section(
            "When and how customers get in touch",
            [
                build(
                    "volume-heatmap",
                    "Volume by weekday and hour",
                    p(figures.volume_heatmap, db, defs),
                    dims=("intent",),
                ),
                build("channel-mix", "Channel mix per intent (first channel)", p(figures.channel_mix, db, defs)),
            ],
        ),  # fmt: skip
        Section(
            "Voice: IVR and transfers",
            [
                build("ivr-sankey", "IVR flow: most common node paths and drop-offs", p(voice.ivr_sankey, db, defs)),
                build("transfer-paths", "Transfer paths", p(voice.transfer_paths, db, defs)),
            ],
        ),
        Section(
            "Tickets and business hours",
            [
                build("ticket-kpis", "Ticket KPIs per week", p(tickets.ticket_kpis, db, defs), wide=True),
                build("ticket-backlog", "Ticket backlog at the end of each day", p(tickets.backlog, db, defs)),
                build("queue-hours", "Calls outside opening hours per queue", p(tickets.queue_hours, db, defs)),
            ],
        ),
        Section(
            "Self-service and what to fix first",
            [
                build(
                    "failure-article", "Self-service failure per FAQ article", p(figures.failure_by_article, db, defs)
                ),
                build("failure-bot", "Self-service failure per bot intent", p(figures.failure_by_bot_intent, db, defs)),
                build(
                    "solution-effectiveness",
                    "Solution effectiveness, ranked by value-weighted fix priority",
                    p(figures.solution_effectiveness, db, defs),
                    wide=True,
                ),
            ],
        ),
        Section(
            "People and customers",
            [
                interactive.agent_panel(defs, data),
                build("hierarchy-funnel", "Customer hierarchy", p(figures.hierarchy_funnel, db, defs)),
            ],
        ),
        Section("Closing the loop: predictions, routing, coaching", predictions.panels(db, defs)),
        Section(
            "Compliance",
            [
                build("calling-hours", "Outbound calls outside calling hours", p(voice.calling_hours, db, defs)),
                build("contact-frequency", "Customers over the 7-in-7 limit", p(voice.contact_frequency, db, defs)),
            ],
            html=voice.compliance_summary(db),
        ),
    ]


def render_html(db: Serving, defs: Definitions) -> str:
    cal, tiles, series = headline(db, defs)
    fcr = next((s for s in series if s.kpi.key == "fcr"), None)
    data = interactive.page_data(db, defs, cal.first_date if cal else None, cal.last_date if cal else None, fcr)
    publication = db.publication()
    return PAGE.render(
        as_of=cal.last_date if cal else "no data",
        first_date=cal.first_date if cal else "–",
        last_date=cal.last_date if cal else "–",
        publication=f"published {publication[1]} UTC (run {publication[0][:8]})" if publication else "",
        tiles=tiles,
        sections=sections(db, defs, data),
        data_json=interactive.script_json(data),
        page_script=PAGE_SCRIPT,
        definitions_source=defs.source,
        serving=db.path.name,
        plotly_js=get_plotlyjs(),
    )


def render_report(serving_db: Path, out_dir: Path, manifest_path: Path | None = None) -> Path:
    """Write ``out_dir/index.html`` from the serving file (opened read-only) and return its path."""
    defs = load_definitions(manifest_path)
    with Serving(Path(serving_db)) as db:
        html = render_html(db, defs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / REPORT_NAME
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
