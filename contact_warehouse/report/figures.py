"""One function per figure of the cockpit. Each reads the serving file and returns (figure or HTML, caption)."""

from __future__ import annotations

import plotly.graph_objects as go

from contact_warehouse.report.data import SCHEMA, Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.panels import CHANNEL_COLORS, Content, style

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TOP = 12


def volume_heatmap(db: Serving, defs: Definitions) -> Content:
    """Contacts per day by weekday and hour, one intent at a time (dropdown), all intents first."""
    mart = "mart_volume_patterns"
    db.require(mart)
    frame = db.frame(
        f"select intent, iso_weekday, hour_of_day, contacts, contacts_per_day, weekday_hour_ratio from {SCHEMA}.{mart}"
    )
    if frame.empty:
        raise ValueError(f"{mart} is empty")
    order = frame.groupby("intent")["contacts"].sum().sort_values(ascending=False).index.tolist()

    def matrices(rows) -> tuple[list[list[float]], list[list[str]]]:
        z = [[0.0] * 24 for _ in WEEKDAYS]
        ratio = [["-"] * 24 for _ in WEEKDAYS]
        for row in rows.itertuples():
            z[row.iso_weekday - 1][row.hour_of_day] += float(row.contacts_per_day)
            if row.weekday_hour_ratio is not None and rows["intent"].nunique() == 1:
                ratio[row.iso_weekday - 1][row.hour_of_day] = f"{row.weekday_hour_ratio:.2f}×"
        return [[round(v, 2) for v in line] for line in z], ratio

    options = [("All intents", frame)] + [(intent, frame[frame["intent"] == intent]) for intent in order]
    built = [(label, *matrices(rows)) for label, rows in options]
    fig = go.Figure(
        go.Heatmap(
            z=built[0][1],
            customdata=built[0][2],
            x=list(range(24)),
            y=WEEKDAYS,
            colorscale="YlOrRd",
            colorbar={"title": {"text": "contacts/day", "side": "right"}, "thickness": 12},
            hovertemplate="%{y} %{x}:00<br>%{z:.2f} contacts per day<br>ratio to the hour's weekday mean: "
            "%{customdata}<extra></extra>",
        )
    )
    buttons = [
        {"label": label, "method": "restyle", "args": [{"z": [z], "customdata": [ratio]}]} for label, z, ratio in built
    ]
    fig.update_layout(
        updatemenus=[{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": 1.16, "yanchor": "top"}]
    )
    fig.update_xaxes(title_text="hour of day", dtick=2)
    fig.update_yaxes(autorange="reversed")
    fig = style(fig, height=360)
    fig.update_layout(margin={"t": 50})
    caption = f"{defs.of(mart, 'contacts_per_day')} {defs.of(mart, 'weekday_hour_ratio')}"
    return fig, caption


def channel_mix(db: Serving, defs: Definitions) -> Content:
    """Share of each intent's interactions by the channel they started on, over the whole data range."""
    mart = "mart_channel_mix"
    db.require(mart)
    frame = db.frame(
        f"""with channels as (
                select intent, channel, sum(interactions_started_on_channel) as started
                from {SCHEMA}.{mart} where period_grain = 'day' group by intent, channel),
            totals as (
                select intent, sum(intent_interactions) as total from (
                    select distinct period_start, intent, intent_interactions
                    from {SCHEMA}.{mart} where period_grain = 'day') group by intent)
            select channels.intent, channels.channel, channels.started, totals.total
            from channels inner join totals on channels.intent = totals.intent
            where channels.started > 0
            order by totals.total, channels.intent"""
    )
    fig = go.Figure()
    for channel in [c for c in CHANNEL_COLORS if c in set(frame["channel"])]:
        rows = frame[frame["channel"] == channel]
        fig.add_bar(
            y=rows["intent"],
            x=rows["started"] / rows["total"] * 100,
            orientation="h",
            name=channel,
            marker_color=CHANNEL_COLORS[channel],
            customdata=list(zip(rows["started"], rows["total"], strict=True)),
            hovertemplate=f"%{{y}} · {channel}: %{{x:.1f}}% (%{{customdata[0]}} of %{{customdata[1]}})<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(ticksuffix="%", range=[0, 100])
    return style(fig, height=380, legend=True), defs.of(mart, "first_channel_share")


def _ranked_bars(labels: list[str], rates: list[float], texts: list[str], hover: list[str]) -> go.Figure:
    """Horizontal bars of rates, the first (worst) on top, labelled with the rate and its counts."""
    percents = [r * 100 for r in rates][::-1]
    top = max(percents, default=0) or 1
    fig = go.Figure(
        go.Bar(
            y=labels[::-1],
            x=percents,
            orientation="h",
            text=texts[::-1],
            textposition="outside",
            cliponaxis=False,
            customdata=hover[::-1],
            marker={"color": percents, "colorscale": "OrRd", "cmin": 0, "cmax": top},
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    fig.update_xaxes(ticksuffix="%", range=[0, top * 1.3])
    return style(fig, height=max(220, 28 * len(labels) + 60))


def failure_by_article(db: Serving, defs: Definitions) -> Content:
    mart = "mart_self_service_failure_by_article"
    db.require(mart)
    rows = db.rows(
        f"""select coalesce(title, article_id), article_id, intent, article_reads, failed_reads,
                   self_service_failure_rate
            from {SCHEMA}.{mart} where period_grain = 'all' and article_reads > 0
            order by failure_rank, article_id limit {TOP}"""
    )
    if not rows:
        raise ValueError(f"{mart} has no article reads")
    fig = _ranked_bars(
        [f"{title[:38]}" for title, *_ in rows],
        [rate for *_, rate in rows],
        [f"{rate:.0%} ({failed}/{reads})" for *_, reads, failed, rate in rows],
        [
            f"{title} ({article}, {intent})<br>{failed} of {reads} reads failed"
            for title, article, intent, reads, failed, _ in rows
        ],
    )
    return fig, defs.of(mart, "self_service_failure_rate") + " Whole data range, worst first."


def failure_by_bot_intent(db: Serving, defs: Definitions) -> Content:
    mart = "mart_self_service_failure_by_bot_intent"
    db.require(mart)
    rows = db.rows(
        f"""select bot_intent, intent, bot_only_chats, failed_chats, self_service_failure_rate
            from {SCHEMA}.{mart} where period_grain = 'all' and bot_only_chats > 0
            order by failure_rank, bot_intent limit {TOP}"""
    )
    if not rows:
        raise ValueError(f"{mart} has no bot-only chats")
    fig = _ranked_bars(
        [f"{bot} ({intent})" if bot != intent else bot for bot, intent, *_ in rows],
        [rate for *_, rate in rows],
        [f"{rate:.0%} ({failed}/{chats})" for *_, chats, failed, rate in rows],
        [
            f"bot intent {bot} → {intent}<br>{failed} of {chats} bot-only chats failed"
            for bot, intent, chats, failed, _ in rows
        ],
    )
    return fig, defs.of(mart, "self_service_failure_rate") + " Whole data range, worst first."


def solution_effectiveness(db: Serving, defs: Definitions) -> Content:
    """What to fix first: engagements not resolved on their starting medium, weighted by the intent's value."""
    mart = "mart_solution_effectiveness"
    db.require(mart)
    rows = db.rows(
        f"""select intent, starting_medium, closed_engagements, resolved_same_channel, effectiveness_rate,
                   value_weight, fix_priority_score
            from {SCHEMA}.{mart} where period_grain = 'all' and closed_engagements > 0
            order by fix_priority_rank limit {TOP}"""
    )
    if not rows:
        raise ValueError(f"{mart} has no closed engagements")
    rows = rows[::-1]
    fig = go.Figure(
        go.Bar(
            y=[f"{intent} · {medium}" for intent, medium, *_ in rows],
            x=[score for *_, score in rows],
            orientation="h",
            text=[f"{rate:.0%} effective" for *_, rate, _w, _s in rows],
            textposition="auto",
            marker={
                "color": [rate * 100 for *_, rate, _w, _s in rows],
                "colorscale": "RdYlGn",
                "cmin": 0,
                "cmax": 100,
                "colorbar": {"title": {"text": "effective %", "side": "right"}, "thickness": 12},
            },
            customdata=[
                f"{intent} starting on {medium}: {same} of {closed} closed engagements resolved on one medium "
                f"({rate:.1%}); value weight {weight:g}"
                for intent, medium, closed, same, rate, weight, _ in rows
            ],
            hovertemplate="%{customdata}<br>fix priority %{x:,.1f}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="fix priority (value-weighted engagements not solved on their medium)")
    caption = f"{defs.of(mart, 'effectiveness_rate')} {defs.of(mart, 'fix_priority_score')} Whole data range."
    return style(fig, height=max(260, 28 * len(rows) + 80)), caption


HIERARCHY = [
    ("fct_events", "events"),
    ("fct_transactions", "transactions"),
    ("fct_interactions", "interactions"),
    ("fct_engagements", "engagements"),
    ("fct_customer_journeys", "customers"),
]


def hierarchy_funnel(db: Serving, defs: Definitions) -> Content:
    db.require(*[mart for mart, _ in HIERARCHY])
    counts = [db.count(mart) for mart, _ in HIERARCHY]
    fig = go.Figure(
        go.Funnel(
            y=[label for _, label in HIERARCHY],
            x=counts,
            textinfo="value+percent initial",
            marker={"color": ["#1d3557", "#31577f", "#457b9d", "#6d9dc5", "#a8dadc"]},
            customdata=[mart for mart, _ in HIERARCHY],
            hovertemplate="%{y}: %{x:,} rows of %{customdata}<extra></extra>",
        )
    )
    caption = " ".join(f"{label.capitalize()} ({mart}): {defs.model(mart)}" for mart, label in HIERARCHY)
    return style(fig, height=320), caption
