"""The page: one Jinja2 template, Plotly's JavaScript inlined once, every figure a div + script after it."""

from __future__ import annotations

import jinja2

PAGE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Contact-center cockpit · {{ as_of }}</title>
<style>
:root { --ink:#24303f; --muted:#5f6b7a; --line:#e3e8ef; --bg:#f4f6f9; --good:#1f8a5b; --bad:#c0392b; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:14px/1.45 Inter, "Segoe UI", Helvetica, Arial, sans-serif; }
header { background:#1d3557; color:#fff; padding:18px 28px; display:flex; align-items:baseline; gap:24px;
         flex-wrap:wrap; }
header h1 { margin:0; font-size:22px; font-weight:600; }
header .meta { color:#c9d6e8; font-size:13px; }
main { padding:20px 28px 40px; max-width:1600px; margin:0 auto; }
h2 { font-size:16px; margin:28px 0 10px; color:#1d3557; text-transform:uppercase; letter-spacing:.04em; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(280px, 1fr)); gap:12px; }
.tile { background:#fff; border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.tile-label { font-weight:600; font-size:13px; color:var(--muted); display:flex; justify-content:space-between; }
.tile-row { display:grid; grid-template-columns:auto 1fr; align-items:baseline; column-gap:8px; margin-top:6px; }
.tile-value { font-size:24px; font-weight:650; }
.tile-row.week .tile-value { font-size:18px; }
.tile-period { grid-column:1 / 3; font-size:11px; color:var(--muted); }
.tile-delta { font-size:12px; font-weight:600; text-align:right; }
.tile-delta.good { color:var(--good); }
.tile-delta.bad { color:var(--bad); }
.tile-delta.neutral { color:var(--muted); }
.info { cursor:help; color:#8a97a8; border:1px solid #b8c2cf; border-radius:50%; width:16px; height:16px;
        font:italic 600 11px/14px Georgia, serif; text-align:center; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(560px, 1fr)); gap:14px; }
.grid.small { grid-template-columns:repeat(auto-fill, minmax(380px, 1fr)); }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:14px 16px 10px; min-width:0; }
.card.wide { grid-column:1 / -1; }
.card h3 { margin:0 0 6px; font-size:15px; }
.caption { color:var(--muted); font-size:12px; margin:8px 0 2px; border-top:1px solid var(--line); padding-top:6px; }
.sub { color:var(--muted); font-size:12px; margin:0 0 6px; }
.unavailable { padding:28px; text-align:center; color:var(--bad); background:#fdf1f0; border:1px dashed #e6b0aa;
               border-radius:8px; font-weight:600; }
.tile .unavailable { padding:8px; margin-top:8px; font-size:12px; font-weight:500; }
.table-wrap { max-height:460px; overflow:auto; }
table.scorecard { border-collapse:collapse; width:100%; font-size:13px; }
.scorecard th { position:sticky; top:0; background:#f0f3f7; text-align:right; padding:6px 8px; }
.scorecard td { text-align:right; padding:5px 8px; border-bottom:1px solid var(--line); }
.scorecard th:first-child, .scorecard td:first-child { text-align:left; }
.scorecard td.flag { background:#fbe3e0; color:var(--bad); font-weight:600; }
.badge { background:var(--bad); color:#fff; border-radius:9px; padding:1px 7px; font-size:11px; font-weight:700; }
.flags { display:flex; flex-wrap:wrap; gap:10px; margin-bottom:12px; }
.flag-item { background:#fff; border:1px solid var(--line); border-left:4px solid var(--bad); border-radius:6px;
             padding:8px 12px; font-weight:600; }
footer { color:var(--muted); font-size:12px; padding:0 28px 28px; max-width:1600px; margin:0 auto; }
</style>
<script type="text/javascript">{{ plotly_js | safe }}</script>
</head>
<body>
<header>
  <h1>Contact-center cockpit</h1>
  <span class="meta">data {{ first_date }} → {{ last_date }} (the last date is partial: tiles compare complete
    days and weeks){% if publication %} · {{ publication }}{% endif %}</span>
</header>
<main>
  <h2>Headline: latest complete day and week against the previous one</h2>
  <section class="tiles">
  {% for tile in tiles %}
    <div class="tile" data-kpi="{{ tile.key }}" title="{{ tile.definition }}">
      <div class="tile-label"><span>{{ tile.label }}</span><span class="info">i</span></div>
      {% if tile.missing %}
      <div class="unavailable">not available: {{ tile.missing }}</div>
      {% else %}
      {% for row in tile.rows %}
      <div class="tile-row {{ row.grain }}" data-period="{{ row.grain }}" data-date="{{ row.date }}">
        <span class="tile-period">{{ row.period_label }}</span>
        <span class="tile-value">{{ row.value }}</span>
        <span class="tile-delta {{ row.tone }}" title="{{ row.previous_label }}">{{ row.delta }}</span>
      </div>
      {% endfor %}
      {% endif %}
    </div>
  {% endfor %}
  </section>
  {% for section in sections %}
  <h2>{{ section.title }}</h2>
  {% if section.html %}{{ section.html | safe }}{% endif %}
  <section class="grid{{ ' small' if section.small else '' }}">
    {% for panel in section.panels %}
    <div class="card{{ ' wide' if panel.wide else '' }}" data-panel="{{ panel.key }}">
      <h3>{{ panel.title }}</h3>
      {{ panel.body() | safe }}
      {% if panel.caption %}<p class="caption">{{ panel.caption }}</p>{% endif %}
    </div>
    {% endfor %}
  </section>
  {% endfor %}
</main>
<footer>Definitions from the {{ definitions_source }} (dbt docs; docs/kpi_glossary.md). Source: {{ serving }},
  schema marts, opened read-only. Every rate is re-computed from the marts' numerators and denominators.</footer>
</body>
</html>
"""
)
