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
.tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(100%, 280px), 1fr)); gap:12px; }
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
/* min(100%, …): on a phone a card is as wide as the screen, never wider (no sideways scrolling of the page). */
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(100%, 560px), 1fr)); gap:14px; }
.grid.small { grid-template-columns:repeat(auto-fill, minmax(min(100%, 380px), 1fr)); }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:14px 16px 10px; min-width:0; }
.card.wide { grid-column:1 / -1; }
.card h3 { margin:0 0 6px; font-size:15px; }
.caption { color:var(--muted); font-size:12px; margin:8px 0 2px; border-top:1px solid var(--line); padding-top:6px;
           overflow-wrap:anywhere; }
.filter-note { background:#fff7e0; border:1px solid #f0d58a; color:#7a5a00; border-radius:6px; font-size:12px;
               padding:4px 8px; margin:0 0 8px; }
.filter-note[hidden] { display:none; }
.filters { position:sticky; top:0; z-index:10; background:#fff; border-bottom:1px solid var(--line);
           padding:10px 28px; display:flex; flex-wrap:wrap; gap:8px 14px; align-items:flex-end;
           box-shadow:0 2px 6px rgba(29,53,87,.08); }
.filters label { display:flex; flex-direction:column; font-size:11px; color:var(--muted); font-weight:600;
                 text-transform:uppercase; letter-spacing:.03em; min-width:0; }
.filters input, .filters select { font:inherit; font-size:13px; padding:4px 6px; border:1px solid #b8c2cf;
                                   border-radius:6px; background:#fff; color:var(--ink); max-width:180px; }
.filters button, button.csv { font:inherit; font-size:13px; padding:5px 10px; border:1px solid #1d3557;
                              border-radius:6px; background:#fff; color:#1d3557; cursor:pointer; }
.filters .status { font-size:12px; color:var(--muted); flex-basis:100%; }
.actions { margin:8px 0 2px; font-size:12px; color:var(--muted); }
.sel-grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(100%, 170px), 1fr)); gap:8px; }
.sel { border:1px solid var(--line); border-radius:8px; padding:6px 10px; display:flex; flex-direction:column; }
.sel-label { font-size:12px; color:var(--muted); font-weight:600; }
.sel-value { font-size:20px; font-weight:650; }
.sel-n, .n { font-size:11px; color:var(--muted); font-weight:400; }
table.data { border-collapse:collapse; width:100%; font-size:13px; }
.data th { position:sticky; top:0; background:#f0f3f7; text-align:right; padding:6px 8px; white-space:nowrap; }
.data td { text-align:right; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
.data th.text, .data td.text { text-align:left; }
/* The first column (queue, agent) stays in view while a narrow screen scrolls the table sideways. */
.data th:first-child, .data td:first-child { position:sticky; left:0; z-index:1; background:#fff; }
.data th:first-child { z-index:2; background:#f0f3f7; }
.data td.flag { background:#fbe3e0; color:var(--bad); font-weight:600; }
.data td.good { color:var(--good); font-weight:600; }
.data td.bad { color:var(--bad); font-weight:600; }
.data tr.total td { font-weight:700; border-top:2px solid var(--ink); }
.sub { color:var(--muted); font-size:12px; margin:0 0 6px; }
.unavailable { padding:28px; text-align:center; color:var(--bad); background:#fdf1f0; border:1px dashed #e6b0aa;
               border-radius:8px; font-weight:600; }
.tile .unavailable { padding:8px; margin-top:8px; font-size:12px; font-weight:500; }
.table-wrap { max-height:460px; overflow:auto; max-width:100%; }
.badge { background:var(--bad); color:#fff; border-radius:9px; padding:1px 7px; font-size:11px; font-weight:700; }
.flags { display:flex; flex-wrap:wrap; gap:10px; margin-bottom:12px; }
.flag-item { background:#fff; border:1px solid var(--line); border-left:4px solid var(--bad); border-radius:6px;
             padding:8px 12px; font-weight:600; }
footer { color:var(--muted); font-size:12px; padding:0 28px 28px; max-width:1600px; margin:0 auto; }
@media (max-width: 640px) {
  header { padding:14px 12px; }
  header h1 { font-size:19px; }
  main { padding:12px 10px 30px; }
  .filters { position:static; padding:10px 12px; }
  .filters label { flex:1 1 40%; }
  .filters input, .filters select { max-width:none; width:100%; }
  .card { padding:12px 10px 8px; }
  footer { padding:0 12px 20px; }
}
</style>
<script type="text/javascript">{{ plotly_js | safe }}</script>
</head>
<body>
<header>
  <h1>Contact-center cockpit</h1>
  <span class="meta">data {{ first_date }} → {{ last_date }} (the last date is partial: tiles compare complete
    days and weeks){% if publication %} · {{ publication }}{% endif %}</span>
</header>
<form class="filters" id="filters" onsubmit="return false">
  <label>From<input type="date" id="f-from" data-filter="date"></label>
  <label>To<input type="date" id="f-to" data-filter="date"></label>
  <label>Channel<select id="f-channel" data-filter="channel"></select></label>
  <label>Queue<select id="f-queue" data-filter="queue"></select></label>
  <label>Intent<select id="f-intent" data-filter="intent"></select></label>
  <label>Agent<select id="f-agent" data-filter="agent"></select></label>
  <button type="button" id="f-reset">Reset</button>
  <span class="status" id="f-status"></span>
</form>
<main>
  <h2>Headline: latest complete day and week against the previous one</h2>
  <p class="sub">The whole contact center, whatever the filters: the filters act on the panels below.</p>
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
    <div class="card{{ ' wide' if panel.wide else '' }}" data-panel="{{ panel.key }}"
         data-dims="{{ panel.dims | join(' ') }}">
      <h3>{{ panel.title }}</h3>
      <p class="filter-note" hidden></p>
      {{ panel.body() | safe }}
      {% if panel.caption %}<p class="caption">{{ panel.caption }}</p>{% endif %}
    </div>
    {% endfor %}
  </section>
  {% endfor %}
</main>
<footer>Definitions from the {{ definitions_source }} (dbt docs; docs/kpi_glossary.md). Source: {{ serving }},
  schema marts, opened read-only. Every rate is re-computed from the marts' numerators and denominators; the
  filters re-sum the marts' day rows embedded in this page.</footer>
<script type="application/json" id="cockpit-data">{{ data_json | safe }}</script>
<script type="text/javascript">{{ page_script | safe }}</script>
</body>
</html>
"""
)
