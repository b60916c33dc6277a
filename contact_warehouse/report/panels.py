"""What the template draws: a panel is a titled card holding a Plotly figure or HTML, with its definition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import duckdb
import plotly.graph_objects as go

from contact_warehouse.report.data import MartMissing

# The toolbar stays visible (phones have no hover) with the PNG download, zoom and reset; the other buttons only
# crowd a small chart.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "zoomIn2d", "zoomOut2d", "pan2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
CHANNEL_COLORS = {
    "voice": "#3566a8",
    "ivr": "#7aa6dc",
    "chat": "#2e9c7f",
    "sms": "#9bd1b9",
    "faq": "#e0a030",
    "form": "#b5654a",
    "email": "#8e6bb5",
    "phone": "#3566a8",
}
GOOD, BAD, NEUTRAL = "#1f8a5b", "#c0392b", "#5f6b7a"


# What a figure function returns: the figure (or an HTML fragment) and its caption (the KPI definitions).
Content = tuple[go.Figure | str, str]


@dataclass
class Panel:
    key: str
    title: str
    caption: str = ""
    content: go.Figure | str | None = None
    missing: str | None = None
    wide: bool = False
    # The filters (date, channel, queue, intent, agent) this panel follows; the page says which it ignores.
    dims: tuple[str, ...] = ()

    def body(self) -> str:
        if self.missing:
            return f'<div class="unavailable">not available: {escape(self.missing)}</div>'
        if isinstance(self.content, go.Figure):
            config = {
                **PLOTLY_CONFIG,
                "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"], "filename": f"cockpit-{self.key}"},
            }
            return self.content.to_html(
                full_html=False, include_plotlyjs=False, div_id=f"fig-{self.key}", config=config
            )
        return self.content or ""


def build(key: str, title: str, make: Callable[[], Content], wide: bool = False, dims: tuple[str, ...] = ()) -> Panel:
    """Run one figure function; a missing mart or a failing query becomes a 'not available' card."""
    try:
        content, caption = make()
    except MartMissing as exc:
        return Panel(key, title, missing=str(exc), wide=wide)
    except (duckdb.Error, KeyError, ValueError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Panel(key, title, missing=f"could not read the marts ({first_line[:160]})", wide=wide)
    return Panel(key, title, caption, content, wide=wide, dims=dims)


def style(fig: go.Figure, height: int = 320, legend: bool = False) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},  # the top band holds the toolbar, above the data
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 12, "color": "#24303f"},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 11}},
        hoverlabel={"bgcolor": "white"},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig
