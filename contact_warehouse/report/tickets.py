"""Ticket and business-hours panels: the help desk's KPIs per week with their sample sizes, the day-end backlog,
and each queue's calls outside opening hours beside its service level and ASA while open.

Each ticket KPI is a semantic-layer metric (dbt_project/models/marts/semantic/_semantic__tickets.yml, read through
report.metrics): the table re-sums the metric's measures per week and divides them with kpis.Point (the sample
size is shown beside it). A mart missing from the serving file makes its card "not available".
"""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go

from contact_warehouse.report.data import SCHEMA, Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.kpis import Point
from contact_warehouse.report.metrics import metric
from contact_warehouse.report.panels import BAD, GOOD, NEUTRAL, Content, style

TICKETS_MART = "mart_ticket_daily"
BACKLOG_MART = "mart_ticket_backlog"
HOURS_MART = "mart_queue_business_hours"
# (semantic-layer metric, format): the ticket table's columns, in order.
TICKET_KPIS = (
    ("first_reply_business_minutes", "minutes"),
    ("first_reply_calendar_minutes", "minutes"),
    ("sla_attainment_rate", "rate"),
    ("resolution_business_minutes", "minutes"),
    ("requester_wait_business_minutes", "minutes"),
    ("agent_replies_per_ticket", "number"),
    ("one_touch_resolution_rate", "rate"),
    ("reopen_rate", "rate"),
)
DEFINED_BY = (
    "first_reply_business_minutes",
    "sla_attainment_rate",
    "resolution_business_minutes",
    "requester_wait_business_minutes",
    "agent_replies_per_ticket",
    "one_touch_resolution_rate",
    "reopen_rate",
)
STATUS_COLORS = {"new": BAD, "open": "#e0a030", "pending": "#7aa6dc", "hold": NEUTRAL}


def _cell(value: float | None, den: int, kind: str) -> str:
    if value is None or not den:
        return '<td class="na">no data</td>'
    text = f"{value:.0%}" if kind == "rate" else f"{value:,.0f}" if kind == "minutes" else f"{value:.2f}"
    return f'<td>{text} <span class="n">n={den:,}</span></td>'


def ticket_kpis(db: Serving, defs: Definitions) -> Content:
    """One row per week: every ticket KPI as its metric's summed numerator over its summed denominator."""
    db.require(TICKETS_MART)
    metrics = [metric(name) for name, _ in TICKET_KPIS]
    sums = ", ".join(f"sum({m.numerator.expr}), sum({m.denominator.expr})" for m in metrics if m.denominator)
    rows = db.rows(
        f"""select period_start, {sums} from {SCHEMA}.{TICKETS_MART}
            where period_grain = 'week' group by period_start order by period_start"""
    )
    head = "".join(f"<th>{escape(m.label)}</th>" for m in metrics)
    body = []
    for row in rows:
        cells = []
        for k, (_, kind) in enumerate(TICKET_KPIS):
            point = Point(row[1 + 2 * k] or 0, row[2 + 2 * k] or 0)
            cells.append(_cell(point.value, int(point.denominator or 0), kind))
        body.append(f"<tr><td>week of {row[0]:%d %b %Y}</td>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(TICKET_KPIS) + 1}">No tickets in the serving file</td></tr>')
    html = (
        '<div class="table-wrap"><table class="data" id="table-tickets"><thead><tr><th>week</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    caption = " ".join([defs.model(TICKETS_MART), *(defs.of(TICKETS_MART, column) for column in DEFINED_BY)])
    return html, caption


def backlog(db: Serving, defs: Definitions) -> Content:
    """Tickets open at the end of each day, stacked by status."""
    db.require(BACKLOG_MART)
    rows = db.rows(
        f"""select activity_date, status, sum(open_tickets) from {SCHEMA}.{BACKLOG_MART}
            group by 1, 2 order by 1, 2"""
    )
    fig = go.Figure()
    for status in STATUS_COLORS:
        points = [(day, n) for day, s, n in rows if s == status]
        if points:
            fig.add_bar(
                x=[day for day, _ in points],
                y=[n for _, n in points],
                name=status,
                marker_color=STATUS_COLORS[status],
                hovertemplate="%{x|%a %d %b}: %{y} tickets<extra>" + status + "</extra>",
            )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="open tickets at day end")
    return style(fig, height=280, legend=True), f"{defs.model(BACKLOG_MART)} {defs.of(BACKLOG_MART, 'open_tickets')}"


def queue_hours(db: Serving, defs: Definitions) -> Content:
    """Per queue over the whole period: share of calls outside opening hours, and service level while open."""
    db.require(HOURS_MART)
    rows = db.rows(
        f"""select queue, sum(calls_outside_hours), sum(calls_entered_queue),
                   sum(answered_within_service_level_in_hours), sum(calls_in_hours)
            from {SCHEMA}.{HOURS_MART} where period_grain = 'day' group by queue order by queue"""
    )
    queues = [q for q, *_ in rows]
    outside = [o / n if n else None for _, o, n, _, _ in rows]
    level = [w / n if n else None for _, _, _, w, n in rows]
    fig = go.Figure()
    fig.add_bar(x=queues, y=outside, name="calls outside opening hours", marker_color=BAD)
    fig.add_bar(x=queues, y=level, name="service level while open", marker_color=GOOD)
    fig.update_layout(barmode="group")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    caption = " ".join(
        [defs.model(HOURS_MART)]
        + [defs.of(HOURS_MART, c) for c in ("outside_hours_share", "service_level_in_hours", "asa_in_hours_seconds")]
    )
    return style(fig, height=300, legend=True), caption
