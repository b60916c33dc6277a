"""The page's own JavaScript: the filters, and the panels they redraw from the day rows embedded as JSON.

No KPI is defined here: a rate is scale × sum(numerator columns) / sum(denominator column), with the columns
the Python side names (`interactive.RATES`) and the marts' own count columns; NULL ("–") when the denominator
is 0 or absent. window.cockpit exposes the state, `set()` and `csv()` for the tests and for the console.
"""

PAGE_SCRIPT = r"""
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("cockpit-data").textContent);
  const DS = DATA.datasets;
  const RATES = DATA.rates;
  const NAMES = {date: "date range", channel: "channel", queue: "queue", intent: "intent", agent: "agent"};
  const ALL = {channel: "All channels", queue: "All queues", intent: "All intents", agent: "All agents"};
  const LAST_COMPLETE = DATA.last_date ? addDays(DATA.last_date, -1) : null;
  const state = {from: DATA.first_date || "", to: DATA.last_date || "", channel: "", queue: "", intent: "", agent: ""};
  const tables = {};

  // ---------------------------------------------------------------------------------------- helpers
  function addDays(iso, n) {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function monday(iso) {
    const d = new Date(iso + "T00:00:00Z");
    return addDays(iso, -((d.getUTCDay() + 6) % 7));
  }
  function dim(ds, name, i) {
    const d = ds.dims[name];
    const code = d.codes[i];
    return code < 0 ? null : d.values[code];
  }
  function fmt(v, unit) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    switch (unit) {
      case "count": return Math.round(v).toLocaleString("en-US");
      case "pct": return (v * 100).toFixed(1) + "%";
      case "seconds": return v.toFixed(1) + " s";
      case "duration": { const s = Math.round(v); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }
      default: return v.toFixed(1);
    }
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
  }
  function activeFilters() {
    const out = [];
    if ((state.from && state.from > DATA.first_date) || (state.to && state.to < DATA.last_date)) out.push("date");
    for (const f of ["channel", "queue", "intent", "agent"]) if (state[f]) out.push(f);
    return out;
  }

  // ---------------------------------------------------------------------------------------- rows and sums
  // Indices of the rows that pass every filter the dataset has a column for (the others cannot apply).
  function selectRows(ds) {
    const wanted = {};
    for (const f of ["channel", "queue", "intent", "agent"]) {
      if (state[f] && ds.dims[f]) wanted[f] = ds.dims[f].values.indexOf(state[f]);
    }
    const out = [];
    for (let i = 0; i < ds.rows; i++) {
      if (ds.dims.date) {
        const day = dim(ds, "date", i);
        if ((state.from && day < state.from) || (state.to && day > state.to)) continue;
      }
      if (ds.dims.week) {  // a week counts when it overlaps the date range
        const week = dim(ds, "week", i);
        if ((state.to && week > state.to) || (state.from && addDays(week, 6) < state.from)) continue;
      }
      let keep = true;
      for (const f in wanted) if (ds.dims[f].codes[i] !== wanted[f]) { keep = false; break; }
      if (keep) out.push(i);
    }
    return out;
  }
  function sumRows(ds, rows) {
    const total = {};
    for (const column in ds.counts) {
      let s = 0;
      const values = ds.counts[column];
      for (const i of rows) s += values[i] || 0;
      total[column] = s;
    }
    return total;
  }
  function groupRows(ds, rows, key) {
    const groups = new Map();
    for (const i of rows) {
      const k = key(i);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(i);
    }
    return groups;
  }
  // scale × sum(numerators) / sum(denominator); null when a column is absent or the denominator is 0.
  function rate(def, sums) {
    let num = 0;
    for (const term of def.numerator) {
      const column = term.replace(/^-/, "");
      if (!(column in sums)) return null;
      num += term.startsWith("-") ? -sums[column] : sums[column];
    }
    if (def.denominator === null) return num;
    const den = sums[def.denominator];
    if (den === undefined || den === null || den === 0) return null;
    return def.scale * num / den;
  }
  function sample(def, sums) {
    return def.denominator && def.denominator in sums ? sums[def.denominator] : null;
  }
  function rateCell(def, sums, extraClass) {
    const n = sample(def, sums);
    const nText = n === null ? "" : ` <span class="n">n=${Math.round(n).toLocaleString("en-US")}</span>`;
    return `<td class="${extraClass || ""}">${fmt(rate(def, sums), def.unit)}${nText}</td>`;
  }

  // ---------------------------------------------------------------------------------------- tables and CSV
  function csvCell(v) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) return "";
    if (typeof v === "number") return String(+v.toFixed(6));
    const s = String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function csv(key) {
    const t = tables[key];
    if (!t) return null;
    return [t.header, ...t.rows].map(r => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
  }
  function download(key) {
    const text = csv(key);
    if (text === null) return;
    const blob = new Blob(["\ufeff" + text], {type: "text/csv;charset=utf-8"});
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `cockpit-${key}-${state.from}_${state.to}.csv`;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  // A rate column exports its value (a share, not a percentage) and its sample size.
  function rateHeader(def) { return def.denominator ? [def.label, def.label + " n"] : [def.label]; }
  function rateValues(def, sums) { return def.denominator ? [rate(def, sums), sample(def, sums)] : [rate(def, sums)]; }

  // ---------------------------------------------------------------------------------------- charts
  const LAYOUT = {
    margin: {l: 10, r: 10, t: 30, b: 10}, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
    font: {family: "Inter, Segoe UI, Helvetica, Arial, sans-serif", size: 12, color: "#24303f"},
    xaxis: {automargin: true, gridcolor: "#ebf0f8", zerolinecolor: "#ebf0f8"},
    yaxis: {automargin: true, gridcolor: "#ebf0f8", zerolinecolor: "#ebf0f8"},
    hoverlabel: {bgcolor: "white"},
  };
  function draw(key, traces, layout) {
    const div = document.getElementById("fig-" + key);
    if (!div) return;
    const config = Object.assign({}, DATA.plotly_config, {
      toImageButtonOptions: Object.assign({}, DATA.plotly_config.toImageButtonOptions, {filename: "cockpit-" + key}),
    });
    // A deep copy: Plotly writes its defaults into the layout it is given (an axis once typed "date" stays so).
    Plotly.react(div, traces, JSON.parse(JSON.stringify(Object.assign({}, LAYOUT, layout))), config);
  }
  function empty(text) {
    return {annotations: [{text: text, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5}],
            xaxis: {visible: false}, yaxis: {visible: false}};
  }

  // ---------------------------------------------------------------------------------------- panels
  function renderSelection() {
    const ds = DS.daily;
    if (!ds) return;
    const rows = selectRows(ds);
    const total = sumRows(ds, rows);
    for (const def of RATES.daily) {
      const box = document.getElementById("sel-" + def.column);
      if (!box) continue;
      const v = rate(def, total);
      const value = box.querySelector(".sel-value");
      value.textContent = fmt(v, def.unit);
      value.dataset.value = v === null ? "" : String(v);
      const n = sample(def, total);
      box.querySelector(".sel-n").textContent = n === null ? "" : `n = ${Math.round(n).toLocaleString("en-US")}`;
      box.title = (DATA.definitions.daily || {})[def.column] || "";
    }
    const byDay = groupRows(ds, rows, i => dim(ds, "date", i));
    const header = ["date"];
    for (const def of RATES.daily) header.push(...rateHeader(def));
    tables.daily = {header: header, rows: [...byDay.keys()].sort().map(day => {
      const sums = sumRows(ds, byDay.get(day));
      const out = [day];
      for (const def of RATES.daily) out.push(...rateValues(def, sums));
      return out;
    })};
  }

  function renderTrends() {
    const ds = DS.daily;
    if (!ds) return;
    const rows = selectRows(ds).filter(i => LAST_COMPLETE === null || dim(ds, "date", i) <= LAST_COMPLETE);
    const byDay = groupRows(ds, rows, i => dim(ds, "date", i));
    const days = [...byDay.keys()].sort();
    const daySums = new Map(days.map(d => [d, sumRows(ds, byDay.get(d))]));
    const byWeek = groupRows(ds, rows, i => monday(dim(ds, "date", i)));
    const immature = {day: new Set(DATA.fcr_immature.day), week: new Set(DATA.fcr_immature.week)};
    for (const column of DATA.trends) {
      const def = RATES.daily.find(r => r.column === column);
      const skip = (grain, period) => column === "fcr_rate" && immature[grain].has(period);
      const scale = def.unit === "pct" ? 100 : 1;
      const suffix = def.unit === "pct" ? "%" : def.unit === "seconds" ? " s" : "";
      const xs = [], ys = [];
      for (const d of days) {
        const v = rate(def, daySums.get(d));
        if (v === null || skip("day", d)) continue;
        xs.push(d); ys.push(v * scale);
      }
      const wx = [], wy = [], wl = [];
      for (const week of [...byWeek.keys()].sort()) {
        if (skip("week", week)) continue;
        const weekDays = days.filter(d => d >= week && d <= addDays(week, 6));
        let v;
        if (def.denominator === null) {  // a mean per complete day: a week's total depends on its days shown
          const values = weekDays.map(d => rate(def, daySums.get(d)));
          v = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
        } else {
          v = rate(def, sumRows(ds, byWeek.get(week)));
        }
        if (v === null) continue;
        const partial = weekDays.length < 7 ? " (partial)" : "";
        wx.push(week, addDays(week, 6), null);
        wy.push(v * scale, v * scale, null);
        const label = `week of ${week}${partial}`;
        wl.push(label, label, "");
      }
      const traces = [
        {type: "scatter", mode: "lines+markers", name: "daily", x: xs, y: ys, line: {color: "#7f9cc4", width: 1.5},
         marker: {size: 4}, hovertemplate: `%{x|%a %d %b}: %{y:,.1f}${suffix}<extra>daily</extra>`},
        {type: "scatter", mode: "lines", name: def.denominator === null ? "weekly mean per day" : "weekly",
         x: wx, y: wy, customdata: wl, connectgaps: false, line: {color: "#1d3557", width: 3},
         hovertemplate: `%{customdata}: %{y:,.1f}${suffix}<extra>weekly</extra>`},
      ];
      const layout = xs.length ? {
        height: 230, showlegend: true,
        legend: {orientation: "h", yanchor: "bottom", y: 1.0, x: 0, font: {size: 11}},
        yaxis: Object.assign({}, LAYOUT.yaxis, {rangemode: def.unit === "nps" ? "normal" : "tozero",
                                                ticksuffix: def.unit === "pct" ? "%" : ""}),
      } : Object.assign({height: 230}, empty("no data in the selection"));
      draw("trend-" + column, xs.length ? traces : [], layout);
    }
  }

  function renderQueues() {
    const ds = DS.queues;
    if (!ds) return;
    const target = DATA.target;
    const defs = Object.fromEntries(RATES.queues.map(r => [r.column, r]));
    const rows = selectRows(ds);
    const byQueue = groupRows(ds, rows, i => dim(ds, "queue", i));
    const queues = [...byQueue.keys()].sort().map(q => ({queue: q, sums: sumRows(ds, byQueue.get(q))}));
    const total = sumRows(ds, rows);
    // The chart: queues that calls entered, worst service level first (on top).
    const charted = queues.filter(q => q.sums.calls_entered_queue > 0)
      .map(q => ({queue: q.queue, sl: rate(defs.service_level, q.sums), n: q.sums.calls_entered_queue}))
      .sort((a, b) => b.sl - a.sl);
    if (charted.length) {
      draw("queue-sl", [{
        type: "bar", orientation: "h", y: charted.map(q => q.queue), x: charted.map(q => q.sl * 100),
        text: charted.map(q => `${(q.sl * 100).toFixed(0)}% (n=${q.n})`), textposition: "outside", cliponaxis: false,
        marker: {color: charted.map(q => q.sl >= target.share ? "#1f8a5b" : "#c0392b")},
        hovertemplate: "%{y}: %{x:.1f}% answered within " + target.seconds + " s<extra></extra>",
      }], {
        height: Math.max(220, 30 * charted.length + 70), showlegend: false,
        xaxis: Object.assign({}, LAYOUT.xaxis, {
          range: [0, 125], tickvals: [0, 20, 40, 60, 80, 100], ticktext: ["0%", "20%", "40%", "60%", "80%", "100%"],
          title: {text: `answered within ${target.seconds} s; dashed: the target, ${(target.share * 100).toFixed(0)}%`,
                  font: {size: 11}},
        }),
        shapes: [{type: "line", xref: "x", yref: "paper", x0: target.share * 100, x1: target.share * 100, y0: 0, y1: 1,
                  line: {color: "#24303f", width: 2, dash: "dash"}}],
      });
    } else {
      draw("queue-sl", [], Object.assign({height: 220}, empty("no call entered a queue in the selection")));
    }
    // The table, with every rate's sample size and the target comparisons.
    const table = document.getElementById("table-queues");
    if (!table) return;
    const head = ["Queue", "Calls queued", "Answered", "Abandoned", ...RATES.queues.map(r => r.label)];
    const line = (label, sums, cls) => {
      const sl = rate(defs.service_level, sums);
      const asa = rate(defs.asa_seconds, sums);
      const cells = RATES.queues.map(def => {
        let tone = "";
        if (def.column === "service_level" && sl !== null) tone = sl >= target.share ? "good" : "bad";
        if (def.column === "asa_seconds" && asa !== null) tone = asa <= target.seconds ? "good" : "bad";
        return rateCell(def, sums, tone);
      });
      const counted = [sums.calls_entered_queue, sums.answered_calls, sums.abandoned_calls];
      return `<tr class="${cls}"><td class="text">${esc(label)}</td>` +
        counted.map(n => `<td>${fmt(n, "count")}</td>`).join("") + cells.join("") + "</tr>";
    };
    table.innerHTML = `<thead><tr>${head.map((h, i) => `<th class="${i ? "" : "text"}">${esc(h)}</th>`).join("")}` +
      `</tr></thead><tbody>${queues.map(q => line(q.queue, q.sums, "")).join("")}` +
      (queues.length > 1 ? line("All selected queues", total, "total") : "") + "</tbody>";
    const header = ["queue", "calls_entered_queue", "answered_calls", "abandoned_calls"];
    for (const def of RATES.queues) header.push(...rateHeader(def));
    header.push("service_level_target", "meets_service_level_target");
    tables.queues = {header: header, rows: queues.map(q => {
      const sl = rate(defs.service_level, q.sums);
      const out = [q.queue, q.sums.calls_entered_queue, q.sums.answered_calls, q.sums.abandoned_calls];
      for (const def of RATES.queues) out.push(...rateValues(def, q.sums));
      out.push(target.share, sl === null ? null : String(sl >= target.share));
      return out;
    })};
  }

  function renderAgents() {
    const ds = DS.agents;
    if (!ds) return;
    const table = document.getElementById("table-agents");
    const flags = DATA.agent_flags;
    const counts = ds.counts;
    const rows = selectRows(ds).sort((a, b) =>
      (dim(ds, "week", b) || "").localeCompare(dim(ds, "week", a) || "")
      || (counts.coaching_flags ? counts.coaching_flags[b] - counts.coaching_flags[a] : 0)
      || (counts.handled_contacts[b] || 0) - (counts.handled_contacts[a] || 0)
      || (dim(ds, "agent", a) || "").localeCompare(dim(ds, "agent", b) || ""));
    // One agent-week per row: the row's own counts; a rate whose denominator this serving file lacks is the
    // mart's rate column as published, without a sample size.
    const own = i => {
      const sums = {};
      for (const column in counts) sums[column] = counts[column][i];
      return sums;
    };
    const value = (def, sums) => (def.denominator in sums ? rate(def, sums) : sums[def.column] ?? null);
    const head = ["Agent", "Week", "Handled", ...RATES.agents.map(r => r.label), "Flags"];
    const body = rows.map(i => {
      const sums = own(i);
      const cells = RATES.agents.map(def => {
        const flag = flags[def.column];
        const flagged = flag && sums[flag[0]];
        const team = flag && sums[flag[1]] !== undefined ? `team that week: ${fmt(sums[flag[1]], def.unit)}` : "";
        const n = sample(def, sums);
        const nText = n === null ? "" : ` <span class="n">n=${n}</span>`;
        const shown = fmt(value(def, sums), def.unit);
        return `<td class="${flagged ? "flag" : ""}" title="${esc(team)}">${shown}${nText}</td>`;
      });
      const badge = sums.coaching_flags ? `<span class="badge">${sums.coaching_flags}</span>` : "";
      return `<tr><td class="text">${esc(dim(ds, "agent", i))}</td><td class="text">${esc(dim(ds, "week", i))}</td>` +
        `<td>${fmt(sums.handled_contacts, "count")}</td>${cells.join("")}<td>${badge}</td></tr>`;
    });
    if (table) {
      const heads = head.map((h, i) => `<th class="${i < 2 ? "text" : ""}">${esc(h)}</th>`).join("");
      table.innerHTML = `<thead><tr>${heads}` +
        `</tr></thead><tbody>${body.join("") ||
        `<tr><td class="text" colspan="${head.length}">no agent week in the selection</td></tr>`}</tbody>`;
    }
    const header = ["agent_id", "week_start", "handled_contacts"];
    for (const def of RATES.agents) header.push(def.label, def.label + " n");
    header.push("coaching_flags", ...Object.values(flags).map(f => f[0]));
    tables.agents = {header: header, rows: rows.map(i => {
      const sums = own(i);
      const out = [dim(ds, "agent", i), dim(ds, "week", i), sums.handled_contacts];
      for (const def of RATES.agents) out.push(value(def, sums), sample(def, sums));
      out.push(sums.coaching_flags ?? null);
      for (const f of Object.values(flags)) out.push(f[0] in sums ? String(!!sums[f[0]]) : null);
      return out;
    })};
  }

  // The heatmap's own intent menu follows the intent filter (it has no date, channel, queue or agent).
  function syncHeatmap() {
    const gd = document.getElementById("fig-volume-heatmap");
    if (!gd || !gd.layout || !gd.layout.updatemenus) return;
    const buttons = gd.layout.updatemenus[0].buttons;
    let index = buttons.findIndex(b => b.label === state.intent);
    if (index < 0) {
      index = 0;
      const note = document.querySelector('[data-panel="volume-heatmap"] .filter-note');
      if (state.intent && note) {
        note.textContent = `Not filtered by intent: ${state.intent} has no volume pattern (all intents shown).`;
        note.hidden = false;
      }
    }
    if ((gd.layout.updatemenus[0].active || 0) === index) return;
    Plotly.restyle(gd, buttons[index].args[0]);
    Plotly.relayout(gd, {"updatemenus[0].active": index});
  }

  function renderNotes() {
    const active = activeFilters();
    for (const card of document.querySelectorAll(".card[data-panel]")) {
      const note = card.querySelector(".filter-note");
      if (!note) continue;
      const dims = (card.dataset.dims || "").split(" ").filter(Boolean);
      const ignored = active.filter(f => !dims.includes(f));
      if (!ignored.length || card.querySelector(".unavailable")) { note.hidden = true; continue; }
      const names = ignored.map(f => NAMES[f]).join(", ");
      note.textContent = dims.length
        ? `Not filtered by ${names}: this panel's mart has no such column.`
        : `Not filtered by ${names}: this panel shows the whole data range, every channel, queue, intent and agent.`;
      note.hidden = false;
    }
    const status = document.getElementById("f-status");
    if (status) {
      status.textContent = active.length
        ? `Filtered by ${active.map(f => NAMES[f]).join(", ")}: ${state.from} → ${state.to}` +
          ["channel", "queue", "intent", "agent"].filter(f => state[f]).map(f => ` · ${f} ${state[f]}`).join("")
        : `Everything: ${DATA.first_date || "–"} → ${DATA.last_date || "–"}`;
    }
  }

  function apply() {
    renderSelection();
    renderTrends();
    renderQueues();
    renderAgents();
    renderNotes();
    syncHeatmap();
  }

  // ---------------------------------------------------------------------------------------- the filter bar
  const inputs = {from: "f-from", to: "f-to", channel: "f-channel", queue: "f-queue", intent: "f-intent",
                  agent: "f-agent"};
  function fillSelect(name) {
    const select = document.getElementById(inputs[name]);
    const values = new Set();
    for (const key in DS) if (DS[key].dims[name]) DS[key].dims[name].values.forEach(v => values.add(v));
    select.innerHTML = `<option value="">${ALL[name]}</option>` +
      [...values].sort().map(v => `<option value="${esc(v)}">${esc(v)}</option>`).join("");
  }
  function syncInputs() {
    for (const name in inputs) document.getElementById(inputs[name]).value = state[name];
  }
  function set(changes) {
    Object.assign(state, changes || {});
    syncInputs();
    apply();
    return Object.assign({}, state);
  }
  function init() {
    for (const name of ["channel", "queue", "intent", "agent"]) fillSelect(name);
    for (const name of ["from", "to"]) {
      const input = document.getElementById(inputs[name]);
      if (DATA.first_date) input.min = DATA.first_date;
      if (DATA.last_date) input.max = DATA.last_date;
    }
    for (const name in inputs) {
      document.getElementById(inputs[name]).addEventListener("change", event => {
        // A cleared date means the data's own first or last date.
        state[name] = event.target.value || (name === "from" ? DATA.first_date : name === "to" ? DATA.last_date : "");
        syncInputs();
        apply();
      });
    }
    document.getElementById("f-reset").addEventListener("click", () =>
      set({from: DATA.first_date || "", to: DATA.last_date || "", channel: "", queue: "", intent: "", agent: ""}));
    for (const button of document.querySelectorAll("button.csv")) {
      button.addEventListener("click", () => download(button.dataset.table));
    }
    syncInputs();
    apply();
  }

  window.cockpit = {state: state, set: set, apply: apply, csv: csv, download: download, tables: tables, data: DATA};
  init();
})();
"""
