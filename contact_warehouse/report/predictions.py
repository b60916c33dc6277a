"""Closing the loop: prediction quality beside the baseline, whom to call back or keep, routing and coaching.

Static tables drawn from the serving file (they do not follow the page's filters); each panel says which mart it
reads, and a mart missing from the file shows as "not available" like every other panel.
"""

from __future__ import annotations

import functools
from html import escape

import plotly.graph_objects as go

from contact_warehouse.report.data import SCHEMA, Serving
from contact_warehouse.report.definitions import Definitions
from contact_warehouse.report.panels import BAD, GOOD, NEUTRAL, Content, Panel, build, style

EVALUATION, CALIBRATION = "mart_prediction_evaluation", "mart_prediction_calibration"
REPEAT, CHURN = "mart_repeat_contact_predictions", "mart_churn_predictions"
ROUTING, COACHING = "mart_routing_recommendations", "mart_coaching_plan"
TOP = 15
MODEL_LABELS = {"repeat_contact": "Repeat contact", "churn": "Churn"}


def _table(
    header: list[str], rows: list[list[str]], text_columns: int = 1, classes: list[list[str]] | None = None
) -> str:
    """A data table; the first ``text_columns`` columns are left-aligned text, cells are escaped."""
    head = "".join(f'<th class="{"text" if i < text_columns else ""}">{escape(h)}</th>' for i, h in enumerate(header))
    body = []
    for r, row in enumerate(rows):
        cells = []
        for i, value in enumerate(row):
            cls = ("text " if i < text_columns else "") + (classes[r][i] if classes else "")
            cells.append(f'<td class="{cls.strip()}">{escape(value)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="table-wrap"><table class="data"><tr>{head}</tr>{"".join(body)}</table></div>'


def _num(value: float | None, digits: int = 3) -> str:
    return "no data" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{100 * value:.0f} %"


def evaluation_table(db: Serving, defs: Definitions) -> Content:
    """Each model beside its baseline on the held-out period, with the verdict said in words."""
    db.require(EVALUATION)
    rows = db.rows(
        f"""select model_name, scorer, status, roc_auc, brier_score, evaluation_rows, evaluation_positives,
                   cast(training_window_start as date), cast(training_window_end as date),
                   cast(evaluation_window_start as date), cast(evaluation_window_end as date), beats_baseline,
                   horizon_days
            from {SCHEMA}.{EVALUATION} order by model_name desc, scorer desc"""
    )
    out, classes = [], []
    for name, scorer, status, auc, brier, n, pos, ts, te, es, ee, beats, horizon in rows:
        if status != "evaluated":
            verdict, cls = "not enough history to evaluate", "bad"
        elif scorer == "baseline":
            verdict, cls = "3+ contacts in 30 days", ""
        else:
            verdict, cls = ("beats the baseline", "good") if beats else ("does NOT beat the baseline", "bad")
        out.append(
            [
                f"{MODEL_LABELS.get(name, name)} ({horizon} days)",
                scorer,
                _num(auc),
                _num(brier, 4),
                f"{pos} of {n}" if n else "–",
                f"{ts} – {te}" if ts else "–",
                f"{es} – {ee}" if es else "–",
                verdict,
            ]
        )
        classes.append(["", "", "", "", "", "", "", cls])
    html = _table(
        ["model", "scorer", "ROC AUC", "Brier", "outcomes / rows", "trained on", "evaluated on", "verdict"],
        out,
        text_columns=2,
        classes=classes,
    )
    caption = f"{defs.of(EVALUATION, 'roc_auc')} {defs.of(EVALUATION, 'brier_score')} {defs.model(EVALUATION)}"
    return html, caption


def calibration_figure(db: Serving, defs: Definitions) -> Content:
    """Observed rate against mean prediction per decile, model and baseline, with the diagonal."""
    db.require(CALIBRATION)
    rows = db.rows(
        f"""select model_name, scorer, mean_predicted_probability, observed_rate
            from {SCHEMA}.{CALIBRATION} order by model_name, scorer, decile"""
    )
    fig = go.Figure()
    top = max([max(p, o) for _, _, p, o in rows], default=1.0)
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", line={"dash": "dot", "color": NEUTRAL}, name="perfect")
    for name in sorted({r[0] for r in rows}):
        for scorer, color in (("model", GOOD), ("baseline", BAD)):
            pts = [(p, o) for n, s, p, o in rows if n == name and s == scorer]
            if pts:
                fig.add_scatter(
                    x=[p for p, _ in pts],
                    y=[o for _, o in pts],
                    mode="lines+markers",
                    line={"color": color, "dash": "solid" if name == "repeat_contact" else "dash"},
                    name=f"{MODEL_LABELS.get(name, name)}: {scorer}",
                )
    fig.update_xaxes(title_text="mean predicted probability (decile)")
    fig.update_yaxes(title_text="observed rate")
    return style(fig, height=340, legend=True), defs.model(CALIBRATION)


def top_scores(db: Serving, defs: Definitions) -> Content:
    """The open engagements most likely to come back and the customers most likely to leave."""
    db.require(REPEAT, CHURN)
    repeat = db.rows(
        f"""select engagement_id, intent, probability, baseline_probability from {SCHEMA}.{REPEAT}
            order by probability desc, engagement_id limit {TOP}"""
    )
    churn = db.rows(
        f"""select customer_ref, probability, baseline_probability, is_frequent_contacter_30d from {SCHEMA}.{CHURN}
            order by probability desc, customer_ref limit {TOP}"""
    )
    no_repeat = '<p class="sub">No open engagement scored (too little history).</p>'
    no_churn = '<p class="sub">No customer scored: the history is shorter than the churn horizon plus a week.</p>'
    html = '<p class="sub">Call back before they call again: open engagements most likely to get another contact</p>'
    if repeat:
        rows = [[e[:10], i, _pct(p), _pct(b)] for e, i, p, b in repeat]
        html += _table(["engagement", "intent", "probability", "baseline"], rows, text_columns=2)
    else:
        html += no_repeat
    html += '<p class="sub">Keep them: customers most likely to churn</p>'
    if churn:
        rows = [[c, _pct(p), _pct(b), "yes" if f else "no"] for c, p, b, f in churn]
        html += _table(["customer", "probability", "baseline", "3+ contacts in 30 days"], rows)
    else:
        html += no_churn
    caption = f"{defs.of(REPEAT, 'probability')} {defs.of(CHURN, 'probability')}"
    return html, caption


def routing_table(db: Serving, defs: Definitions) -> Content:
    """The first recommended agent per intent for all customers, with the sample behind the ranking."""
    db.require(ROUTING)
    rows = db.rows(
        f"""select intent, agent_id, resolution_known_contacts, resolution_rate, resolution_lower_bound,
                   csat_rate, csat_answers, aht_seconds
            from {SCHEMA}.{ROUTING} where segment = 'all' and agent_rank = 1 order by intent"""
    )
    html = _table(
        ["intent", "agent", "contacts", "resolution", "lower bound", "CSAT (answers)", "AHT"],
        [
            [i, a, str(n), _pct(r), _pct(lb), f"{_pct(c)} ({ca})", f"{a_s / 60:.1f} min" if a_s else "no data"]
            for i, a, n, r, lb, c, ca, a_s in rows
        ],
        text_columns=2,
    )
    caption = f"{defs.of(ROUTING, 'resolution_lower_bound')} {defs.model(ROUTING)}"
    return html, caption


def coaching_table(db: Serving, defs: Definitions) -> Content:
    """Per agent, the intents to coach, each figure beside its sample and the peers' figure."""
    db.require(COACHING)
    rows = db.rows(
        f"""select agent_id, intent, is_low_fcr, fcr_rate, closed_engagements, peer_fcr_rate, is_low_csat, csat_rate,
                   csat_answers, peer_csat_rate, is_high_aht, aht_seconds, handled_contacts, peer_aht_seconds
            from {SCHEMA}.{COACHING} order by agent_id, intent"""
    )
    out, classes = [], []
    for agent, intent, lf, fcr, nf, pf, lc, csat, nc, pc, ha, aht, na, pa in rows:
        out.append(
            [
                agent,
                intent,
                f"{_pct(fcr)} of {nf} (peers {_pct(pf)})",
                f"{_pct(csat)} of {nc} (peers {_pct(pc)})",
                f"{(aht or 0) / 60:.1f} min of {na} (peers {(pa or 0) / 60:.1f})",
            ]
        )
        classes.append(["", "", "flag" if lf else "", "flag" if lc else "", "flag" if ha else ""])
    html = (
        _table(["agent", "intent", "FCR", "CSAT", "AHT"], out, text_columns=2, classes=classes)
        if out
        else '<p class="sub">No agent is significantly behind peers on any intent.</p>'
    )
    return html, defs.model(COACHING)


def panels(db: Serving, defs: Definitions) -> list[Panel]:
    p = functools.partial
    return [
        build("prediction-quality", "Predictions against the baseline (held-out later period)",
              p(evaluation_table, db, defs), wide=True),
        build("prediction-calibration", "Calibration by decile", p(calibration_figure, db, defs)),
        build("prediction-scores", "Whom to call back, whom to keep", p(top_scores, db, defs)),
        build("routing", "Routing: best agent per intent (Wilson lower bound)", p(routing_table, db, defs)),
        build("coaching-plan", "Coaching plan: intents where an agent is behind peers", p(coaching_table, db, defs)),
    ]  # fmt: skip
