"""The intraday staffing view: per queue and interval, offered calls against the forecast, the agents Erlang C
requires against those who handled calls, and the service level against the queue's target; with the forecast's
backtest beside it. Drawn from the staffing marts of the serving file (docs/staffing.md)."""

from __future__ import annotations

from html import escape

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from contact_warehouse.report.data import SCHEMA, Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.panels import BAD, GOOD, NEUTRAL, Content, style

ACTUALS_MART = "mart_staffing_actuals"
FORECAST_MART = "mart_staffing_forecast"
ACCURACY_MART = "mart_staffing_forecast_accuracy"
# The past shown before the forecast: one week keeps the page small (the sample's 5 queues: about 500 KB).
PAST_DAYS = 7
ACTUAL_COLOR, FORECAST_COLOR = "#3566a8", "#e0a030"


def _frames(db: Serving) -> tuple[pd.DataFrame, pd.DataFrame]:
    db.require(ACTUALS_MART, FORECAST_MART)
    forecast = db.frame(
        f"""select queue, interval_minutes, interval_start_local, forecast_offered, required_agents,
                   expected_service_level, service_level_target
            from {SCHEMA}.{FORECAST_MART} order by queue, interval_start_utc"""
    )
    minutes = int(forecast["interval_minutes"].iloc[0]) if len(forecast) else 30
    actuals = db.frame(
        f"""select queue, interval_start_local, offered_contacts, agents_handling, required_agents, service_level,
                   service_level_target
            from {SCHEMA}.{ACTUALS_MART}
            where interval_minutes = ?
              and interval_start_utc >= (select max(interval_start_utc) from {SCHEMA}.{ACTUALS_MART})
                  - interval {PAST_DAYS} day
            order by queue, interval_start_utc""",
        [minutes],
    )
    return _filled(actuals, minutes), forecast


def _filled(actuals: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """Every interval of each queue's past on the local clock: an interval without a row had no call and no agent
    busy (0), and no service level (NaN). The repeated local hour of the night the clocks go back is summed."""
    if actuals.empty:
        return actuals
    frames = []
    for queue, rows in actuals.groupby("queue"):
        rows = rows.groupby("interval_start_local").agg(
            offered_contacts=("offered_contacts", "sum"), agents_handling=("agents_handling", "sum"),
            required_agents=("required_agents", "sum"), service_level=("service_level", "mean"),
            service_level_target=("service_level_target", "max"),
        )  # fmt: skip
        grid = pd.date_range(rows.index.min(), rows.index.max(), freq=f"{minutes}min", name="interval_start_local")
        filled = rows.reindex(grid)
        filled[["offered_contacts", "agents_handling", "required_agents"]] = filled[
            ["offered_contacts", "agents_handling", "required_agents"]
        ].fillna(0)
        filled["service_level_target"] = filled["service_level_target"].ffill().bfill()
        frames.append(filled.reset_index().assign(queue=queue))
    return pd.concat(frames, ignore_index=True)


def intraday(db: Serving, defs: Definitions) -> Content:
    """Three stacked charts over the last two weeks and the forecast horizon, one queue at a time (dropdown)."""
    actuals, forecast = _frames(db)
    queues = sorted(set(actuals["queue"]) | set(forecast["queue"]))
    if not queues:
        raise ValueError(f"{ACTUALS_MART} and {FORECAST_MART} are empty")
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
        subplot_titles=("Offered calls: actual and forecast", "Agents: required (Erlang C) and handling calls",
                        "Service level per interval"),
    )  # fmt: skip
    per_queue = 0
    for index, queue in enumerate(queues):
        past = actuals[actuals["queue"] == queue]
        ahead = forecast[forecast["queue"] == queue]
        target = pd.concat([past["service_level_target"], ahead["service_level_target"]]).dropna()
        visible = index == 0
        traces = [
            (go.Scatter(x=past["interval_start_local"], y=past["offered_contacts"], name="offered", mode="lines",
                        line={"color": ACTUAL_COLOR, "shape": "hv", "width": 1}, fill="tozeroy",
                        hovertemplate="%{x}<br>%{y} offered<extra></extra>"), 1),
            (go.Scatter(x=ahead["interval_start_local"], y=ahead["forecast_offered"].round(2), name="forecast",
                        mode="lines", line={"color": FORECAST_COLOR},
                        hovertemplate="%{x}<br>%{y} forecast<extra></extra>"), 1),
            (go.Scatter(x=past["interval_start_local"], y=past["required_agents"], name="required (actual calls)",
                        mode="lines", line={"color": NEUTRAL, "shape": "hv"}), 2),
            (go.Scatter(x=past["interval_start_local"], y=past["agents_handling"], name="agents handling calls",
                        mode="lines", line={"color": ACTUAL_COLOR, "shape": "hv"}), 2),
            (go.Scatter(x=ahead["interval_start_local"], y=ahead["required_agents"], name="required (forecast)",
                        mode="lines", line={"color": FORECAST_COLOR, "shape": "hv"}), 2),
            (go.Scatter(x=past["interval_start_local"], y=(past["service_level"] * 100).round(1), name="service level",
                        mode="markers", marker={"size": 4, "color": [
                            GOOD if not pd.isna(sl) and not pd.isna(t) and sl >= t else BAD
                            for sl, t in zip(past["service_level"], past["service_level_target"], strict=True)]},
                        hovertemplate="%{x}<br>%{y}% answered in time<extra></extra>"), 3),
            (go.Scatter(x=ahead["interval_start_local"], y=(ahead["expected_service_level"] * 100).round(1),
                        name="expected at required agents", mode="lines", line={"color": FORECAST_COLOR}), 3),
            (go.Scatter(x=[past["interval_start_local"].min() if len(past) else ahead["interval_start_local"].min(),
                           ahead["interval_start_local"].max() if len(ahead) else past["interval_start_local"].max()],
                        y=[float(target.iloc[0]) * 100 if len(target) else None] * 2, name="target", mode="lines",
                        line={"color": NEUTRAL, "dash": "dash"}), 3),
        ]  # fmt: skip
        per_queue = len(traces)
        for trace, row in traces:
            trace.visible = visible
            trace.legendgroup = trace.name
            trace.showlegend = visible
            fig.add_trace(trace, row=row, col=1)
    buttons = []
    for index, queue in enumerate(queues):
        shown = [i // per_queue == index for i in range(per_queue * len(queues))]
        buttons.append({"label": queue, "method": "update", "args": [{"visible": shown, "showlegend": shown}]})
    fig.update_layout(
        updatemenus=[{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": 1.1, "yanchor": "top"}],
    )
    fig.update_yaxes(title_text="calls", row=1, col=1)
    fig.update_yaxes(title_text="agents", row=2, col=1)
    fig.update_yaxes(title_text="%", range=[0, 105], row=3, col=1)
    fig = style(fig, height=640, legend=True)
    # The legend under the charts: above them it would hide the queue menu.
    fig.update_layout(margin={"t": 60}, legend={"y": -0.08, "yanchor": "top"})
    caption = " ".join(
        [
            defs.model(ACTUALS_MART),
            defs.of(FORECAST_MART, "forecast_offered"),
            defs.of(FORECAST_MART, "required_agents"),
            defs.of(ACTUALS_MART, "staffing_gap"),
            f"Local times of the reporting zone; the last {PAST_DAYS} days, then the forecast.",
        ]
    )
    return fig, caption


def accuracy(db: Serving, defs: Definitions) -> Content:
    """The forecast's backtest per queue: which model, its WAPE and MASE against the seasonal naive's."""
    db.require(ACCURACY_MART)
    frame = db.frame(
        f"""select queue, chosen_model, beats_baseline, candidate_wape, baseline_wape, candidate_mase, baseline_mase,
                   backtest_windows, note
            from {SCHEMA}.{ACCURACY_MART} order by queue"""
    )
    if frame.empty:
        raise ValueError(f"{ACCURACY_MART} is empty")

    def number(value: object) -> str:
        return "–" if value is None or pd.isna(value) else f"{float(value):.3f}"

    rows = []
    for row in frame.itertuples(index=False):
        # The model used is green when it beat the seasonal naive, red when the forecast fell back to it.
        tone = "good" if row.beats_baseline is True else "bad" if row.beats_baseline is False else "text"
        cells = [("text", row.queue), (f"text {tone}", row.chosen_model), ("", number(row.candidate_wape)),
                 ("", number(row.baseline_wape)), ("", number(row.candidate_mase)), ("", number(row.baseline_mase)),
                 ("", row.backtest_windows), ("text", row.note)]  # fmt: skip
        rows.append("<tr>" + "".join(f'<td class="{c}">{escape(str(v))}</td>' for c, v in cells) + "</tr>")
    header = ["queue", "model used", "best candidate WAPE", "seasonal naive WAPE", "best candidate MASE",
              "seasonal naive MASE", "backtest weeks", "outcome"]  # fmt: skip
    table = (
        '<div class="table-wrap"><table class="data" id="table-staffing-accuracy"><thead><tr>'
        + "".join(f"<th>{escape(h)}</th>" for h in header)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    caption = f"{defs.model(ACCURACY_MART)} {defs.of(ACCURACY_MART, 'chosen_wape')}"
    return table, caption
