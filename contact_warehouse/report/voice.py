"""Voice figures: queue KPIs (ASA, abandonment, service level), IVR flow, transfer paths, compliance flags.

Column names are looked up among a few spellings, so a small rename in the voice marts still draws; anything
else shows which mart or column is missing.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

import duckdb
import plotly.graph_objects as go

from contact_warehouse.report.data import SCHEMA, Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.kpis import metric_total
from contact_warehouse.report.panels import Content, style

IVR_PATHS_MART = "mart_ivr_paths"
IVR_NODES_MART = "mart_ivr_node_dwell"
IVR_CONTAINMENT_MART = "mart_ivr_containment"
TRANSFER_PATHS_MART = "mart_transfer_paths"
TRANSFERS_MART = "mart_transfers"
CALLING_HOURS_MART = "mart_compliance_calling_hours"
FREQUENCY_MART = "mart_compliance_contact_frequency"
TOP_PATHS = 15
DROP_COLOR, FLOW_COLOR = "#c0392b", "#457b9d"
DROPPED = "dropped"


def columns(db: Serving, mart: str, spellings: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """The mart's name for each role; MartMissing names the first absent one."""
    return {role: db.column(mart, *names) for role, names in spellings.items()}


def whole_range(db: Serving, mart: str) -> str:
    """A filter keeping every fact once: the 'all' period when the mart has one, else the days."""
    if "period_grain" not in db.tables[mart]:
        return "true"
    grains = {g for (g,) in db.rows(f"select distinct period_grain from {SCHEMA}.{mart}")}
    return "period_grain = 'all'" if "all" in grains else "period_grain = 'day'"


# ------------------------------------------------------------------------------------------ IVR


def _node_stats(db: Serving) -> dict[str, str]:
    """Hover text per IVR node: visits, mean dwell and drop-off rate over the whole range (when the mart exists)."""
    if not db.has(IVR_NODES_MART):
        return {}
    rows = db.rows(
        f"""select node, sum(visits), sum(dwell_seconds), sum(drop_offs) from {SCHEMA}.{IVR_NODES_MART}
            where {whole_range(db, IVR_NODES_MART)} group by node"""
    )
    return {
        node: f"{visits:,} visits · mean dwell {dwell / visits:.1f} s · drop-off {drops / visits:.1%}"
        for node, visits, dwell, drops in rows
        if visits
    }


def ivr_sankey(db: Serving, defs: Definitions) -> Content:
    """The most common IVR node paths as a Sankey, menu by menu, ending in how the calls left the IVR."""
    mart = IVR_PATHS_MART
    col = columns(
        db,
        mart,
        {
            "path": ("node_path",),
            "calls": ("ivr_calls", "calls"),
            "contained": ("contained_calls",),
            "dropped": ("dropped_calls",),
            "queued": ("queued_calls",),
        },
    )
    rows = db.rows(
        f"""select {col["path"]}, sum({col["calls"]}), sum({col["contained"]}), sum({col["dropped"]}),
                   sum({col["queued"]})
            from {SCHEMA}.{mart}
            where {whole_range(db, mart)} and {col["path"]} is not null and {col["path"]} <> 'none'
            group by 1 order by 2 desc, 1 limit {TOP_PATHS}"""
    )
    if not rows:
        raise ValueError(f"{mart} has no IVR paths")
    links: dict[tuple[str, str], float] = defaultdict(float)
    for path, calls, contained, dropped, queued in rows:
        nodes = [f"{i + 1}. {step}" for i, step in enumerate(str(path).split(" > "))]
        for source, target in zip(nodes, nodes[1:], strict=False):
            links[(source, target)] += calls
        exits = {"self-service done": contained, DROPPED: dropped, "to a queue": queued,
                 "other exit": calls - contained - dropped - queued}  # fmt: skip
        for exit_label, count in exits.items():
            if count > 0:
                links[(nodes[-1], exit_label)] += count
    stats = _node_stats(db)
    labels = {label for link in links for label in link}
    fig = _sankey(links, hover={label: stats.get(label.split(". ", 1)[-1], "") for label in labels})
    total = sum(row[1] for row in rows)
    caption = (
        f"The {len(rows)} most common menu paths ({total:,.0f} calls over the whole range), numbered by step; red is "
        f"where calls dropped (hang-up or no input); hover a menu for its dwell and drop-off. "
        f"{defs.of(mart, col['calls'])} {defs.of(IVR_NODES_MART, 'mean_dwell_seconds')} "
        f"{defs.of(IVR_NODES_MART, 'drop_off_rate')}"
    )
    return fig, caption + _containment(db, defs)


def _containment(db: Serving, defs: Definitions) -> str:
    """IVR containment over the whole range, with its definition, when the containment mart is there."""
    if not db.has(IVR_CONTAINMENT_MART):
        return ""
    ivr_calls, contained, truly = db.rows(
        f"select sum(ivr_calls), sum(contained_calls), sum(truly_contained_calls) from {SCHEMA}.{IVR_CONTAINMENT_MART} "
        "where period_grain = 'day'"
    )[0]
    if not ivr_calls:
        return ""
    return (
        f" Containment over the range: {contained / ivr_calls:.1%}, true containment {truly / ivr_calls:.1%}. "
        f"{defs.of(IVR_CONTAINMENT_MART, 'containment_rate')} {defs.of(IVR_CONTAINMENT_MART, 'true_containment_rate')}"
    )


def _sankey(links: dict[tuple[str, str], float], hover: dict[str, str] | None = None) -> go.Figure:
    labels = list(dict.fromkeys([a for a, _ in links] + [b for _, b in links]))
    index = {label: i for i, label in enumerate(labels)}
    dropped = [label == DROPPED for label in labels]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": [DROP_COLOR if d else FLOW_COLOR for d in dropped],
                "pad": 12,
                "thickness": 14,
                "customdata": [(hover or {}).get(label, "") for label in labels],
                "hovertemplate": "%{label}: %{value:,.0f} calls<br>%{customdata}<extra></extra>",
            },
            link={
                "source": [index[a] for a, _ in links],
                "target": [index[b] for _, b in links],
                "value": list(links.values()),
                "color": ["rgba(192,57,43,0.4)" if dropped[index[b]] else "rgba(69,123,157,0.22)" for _, b in links],
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,.0f}<extra></extra>",
            },
        )
    )
    return style(fig, height=440)


# ------------------------------------------------------------------------------------------ transfers


def transfer_paths(db: Serving, defs: Definitions) -> Content:
    """Transfers from queue to queue over the whole range, the 20 most common paths."""
    mart = TRANSFER_PATHS_MART
    col = columns(db, mart, {"source": ("from_queue",), "target": ("to_queue",), "count": ("transfers",)})
    rows = db.rows(
        f"""select {col["source"]}, {col["target"]}, sum({col["count"]}) from {SCHEMA}.{mart}
            where {whole_range(db, mart)} group by 1, 2 having sum({col["count"]}) > 0 order by 3 desc, 1, 2
            limit 20"""
    )
    if not rows:
        raise ValueError(f"{mart} has no transfers")
    fig = _sankey({(f"from {a}", f"to {b}"): float(n) for a, b, n in rows})
    caption = f"The most common transfer paths, whole data range. {defs.of(mart, col['count'])}"
    if db.has(TRANSFERS_MART):
        total = metric_total(db, "transfer_rate")
        if total is not None and total.value is not None:
            caption += f" Transfer rate over the range: {total.value:.1%}."
        caption += f" {defs.of(TRANSFERS_MART, 'transfer_rate')}"
    return fig, caption


# ------------------------------------------------------------------------------------------ compliance


def _empty(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def calling_hours(db: Serving, defs: Definitions) -> Content:
    """Outbound calls placed outside 08:00-21:00 in the customer's local time, per day (unknown zones apart)."""
    mart = CALLING_HOURS_MART
    col = columns(
        db,
        mart,
        {"call": ("call_id",), "status": ("calling_hours_status",), "date": ("local_date",), "at": ("started_at",)},
    )
    rows = db.rows(
        f"""select coalesce({col["date"]}, cast({col["at"]} as date)), {col["status"]}, count(*)
            from {SCHEMA}.{mart} group by 1, 2 order by 1, 2"""
    )
    fig = go.Figure()
    colors = {"outside_hours": DROP_COLOR, "unknown_timezone": "#e0a030"}
    for status in dict.fromkeys(status for _, status, _ in rows):
        points = [(day, n) for day, s, n in rows if s == status]
        fig.add_bar(
            x=[day for day, _ in points],
            y=[n for _, n in points],
            name=status.replace("_", " "),
            marker_color=colors.get(status, "#7f8c8d"),
            hovertemplate="%{x|%a %d %b}: %{y} calls<extra>" + escape(status) + "</extra>",
        )
    if not rows:
        _empty(fig, "No outbound call outside calling hours")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="outbound calls")
    caption = f"{defs.of(mart, col['call'])} {defs.model(mart)} {defs.of(mart, col['status'])}"
    return style(fig, height=280, legend=True), caption


def contact_frequency(db: Serving, defs: Definitions) -> Content:
    """Customers over the 7-in-7 limit: their busiest 7-day window, worst first."""
    mart = FREQUENCY_MART
    col = columns(
        db,
        mart,
        {"customer": ("customer_key",), "ref": ("customer_ref",), "max": ("max_attempts_in_7_days",),
         "window": ("window_start",)},
    )  # fmt: skip
    rows = db.rows(
        f"""select coalesce(max({col["ref"]}), left(max({col["customer"]}), 10)), max({col["max"]}), count(*),
                   min({col["window"]})
            from {SCHEMA}.{mart} group by {col["customer"]} order by 2 desc, 1 limit 15"""
    )
    fig = go.Figure()
    if rows:
        rows = rows[::-1]
        fig.add_bar(
            y=[str(label) for label, *_ in rows],
            x=[peak for _, peak, _, _ in rows],
            orientation="h",
            marker_color="#e0a030",
            text=[f"{peak} attempts" for _, peak, _, _ in rows],
            textposition="auto",
            customdata=[f"{n} attempts in over-limit windows, first from {start:%d %b %H:%M}" for *_, n, start in rows],
            hovertemplate="%{y}: at most %{x} attempts in 7 days<br>%{customdata}<extra></extra>",
        )
        fig.update_xaxes(title_text="most outbound attempts in any 7 consecutive days", rangemode="tozero")
    else:
        _empty(fig, "No customer over the limit")
    caption = f"{defs.of(mart, col['max'])} {defs.model(mart)}"
    return style(fig, height=max(240, 26 * len(rows) + 80)), caption


def compliance_summary(db: Serving) -> str:
    """One line of flags above the compliance figures (nothing when the marts cannot be read)."""
    try:
        flags = _compliance_flags(db)
    except duckdb.Error:
        return ""
    if not flags:
        return ""
    items = "".join(f'<div class="flag-item">{escape(flag)}</div>' for flag in flags)
    return f'<div class="flags">{items}</div>'


def _compliance_flags(db: Serving) -> list[str]:
    flags = []
    if db.has(CALLING_HOURS_MART) and "calling_hours_status" in db.tables[CALLING_HOURS_MART]:
        counts = dict(db.rows(f"select calling_hours_status, count(*) from {SCHEMA}.{CALLING_HOURS_MART} group by 1"))
        flags.append(f"{counts.get('outside_hours', 0)} outbound calls outside 08:00-21:00 local time")
        flags.append(f"{counts.get('unknown_timezone', 0)} with an unknown customer time zone")
    if db.has(FREQUENCY_MART) and "customer_key" in db.tables[FREQUENCY_MART]:
        (customers,) = db.rows(f"select count(distinct customer_key) from {SCHEMA}.{FREQUENCY_MART}")[0]
        flags.append(f"{customers} customers over the 7-in-7 outbound attempt limit")
    return flags
