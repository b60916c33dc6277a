"""The cockpit report: rendered from a serving file and drawn by headless Chromium on a phone (390 px) and a
desktop (1440 px) without a JavaScript error or sideways scrolling; its headline NPS, its filtered figures and its
CSV exports are the serving file's numbers."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import CliRun
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import Select, WebDriverWait

from contact_warehouse.report import render_report
from contact_warehouse.report.interactive import (
    AGENT_MART,
    AGENT_RATES,
    DAILY_MART,
    DAILY_RATES,
    QUEUE_MART,
    QUEUE_RATES,
)
from contact_warehouse.settings import ROOT
from orchestration.cli import main

TESTS = Path(__file__).parent
ARTIFACTS = TESTS / "artifacts"
README_SCREENSHOT = ROOT / "docs" / "cockpit.png"
CHROME_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_APT = 3  # browser_setup.sh: apt-get is not there


# ------------------------------------------------------------------------------------------ serving files


@pytest.fixture(scope="module")
def serving(sample_run: CliRun) -> Path:
    """The serving file of the session's `contact-warehouse run` on the bundled sample (seeds/), the README's run."""
    return sample_run.succeeded().serving


@pytest.fixture(scope="module")
def report(sample_run: CliRun) -> Path:
    """The cockpit that run wrote beside its serving file (the nightly job's report step: render_report)."""
    report = sample_run.succeeded().report
    assert report.is_file(), sample_run.result.stdout
    return report


# ------------------------------------------------------------------------------------------ browser

# (width, height, mobile): the tester's phone and a desktop screen.
VIEWPORTS = {"phone": (390, 844, True), "desktop": (1440, 900, False)}


@pytest.fixture(scope="session")
def chromium() -> None:
    """Debian's chromium and chromium-driver, installed by tests/browser_setup.sh when missing."""
    result = subprocess.run(["bash", str(TESTS / "browser_setup.sh")], capture_output=True, text=True)
    if result.returncode == NO_APT:
        pytest.skip(f"headless Chromium is not installed and cannot be: {result.stderr.strip()}")
    if result.returncode != 0:
        pytest.fail(f"tests/browser_setup.sh failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr}")


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(chromium: None, downloads: Path) -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module (starting one takes seconds); each test sets its viewport."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1440,900")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The Debian driver: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver: webdriver.Chrome, width: int, height: int, mobile: bool = False) -> None:
    """Emulate the screen (a phone's meta viewport applies only with mobile=True)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


DRAWN = """
return [...document.querySelectorAll('.js-plotly-plot')].map(plot => [
    plot.id,
    [...plot.querySelectorAll('svg.main-svg')].some(svg => svg.childElementCount > 0)
        || plot.querySelector('canvas') !== null,
]);
"""


def open_report(driver: webdriver.Chrome, page: Path, viewport: str = "desktop") -> list[list]:
    """Load the page and wait until Plotly has drawn every chart container; returns [id, drawn] per chart."""
    set_viewport(driver, *VIEWPORTS[viewport])
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    expected = driver.execute_script("return document.querySelectorAll('.plotly-graph-div').length")
    WebDriverWait(driver, 30).until(lambda d: len(d.execute_script(DRAWN)) == expected)
    return driver.execute_script(DRAWN)


def full_page_screenshot(driver: webdriver.Chrome, path: Path, width: int = 1440) -> None:
    set_viewport(driver, width, 900)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    set_viewport(driver, width, min(height + 40, 14000))
    driver.execute_script("window.dispatchEvent(new Event('resize'))")
    WebDriverWait(driver, 10).until(lambda d: all(drawn for _, drawn in d.execute_script(DRAWN)))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))


def severe_errors(driver: webdriver.Chrome) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def pick(driver: webdriver.Chrome, select_id: str, value: str) -> None:
    """Choose an option of a filter as a user does (the change event fires)."""
    Select(driver.find_element("id", select_id)).select_by_value(value)


def set_dates(driver: webdriver.Chrome, first: date, last: date) -> None:
    """Type a date range into the filter bar's date inputs (a change event each, as the date picker sends)."""
    for input_id, value in (("f-from", first), ("f-to", last)):
        driver.execute_script(
            "const input = document.getElementById(arguments[0]); input.value = arguments[1];"
            "input.dispatchEvent(new Event('change'));",
            input_id,
            value.isoformat(),
        )


def table_rows(driver: webdriver.Chrome, table_id: str) -> list[list[str]]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
        ".map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim()))",
        table_id,
    )


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ------------------------------------------------------------------------------------------ expected values


def query(serving: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def expected_nps(serving: Path) -> dict[str, tuple[date, float]]:
    """NPS of the latest complete day and week, straight from mart_satisfaction: the last date with data (the
    latest interaction, mart_resolution) is partial, so the latest complete day is the one before it and the
    latest complete week the one ending before it; each is the latest such period with NPS answers."""
    with duckdb.connect(str(serving), read_only=True) as con:
        (last_date,) = con.execute(
            "select max(period_start) from marts.mart_resolution where period_grain = 'day'"
        ).fetchone()
        monday_of_last = last_date - timedelta(days=last_date.weekday())
        limits = {"day": last_date - timedelta(days=1), "week": monday_of_last - timedelta(days=7)}
        expected = {}
        for grain, limit in limits.items():
            expected[grain] = con.execute(
                """select period_start, 100.0 * (sum(promoters) - sum(detractors)) / sum(nps_answers)
                   from marts.mart_satisfaction
                   where period_grain = ? and period_start <= ?
                   group by period_start having sum(nps_answers) > 0
                   order by period_start desc limit 1""",
                [grain, limit],
            ).fetchone()
    return expected


def busiest_queue(serving: Path) -> tuple[str, int, int, int]:
    """The queue most calls entered: (queue, calls entered, answered within the service level, abandoned)."""
    return query(
        serving,
        f"""select queue, sum(calls_entered_queue), sum(answered_within_service_level), sum(abandoned_calls)
            from marts.{QUEUE_MART} where period_grain = 'day' group by queue
            order by 2 desc, 1 limit 1""",
    )[0]


# ------------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_page_fits_the_screen_and_draws_every_chart_with_its_toolbar(
    report: Path, browser: webdriver.Chrome, viewport: str
) -> None:
    charts = open_report(browser, report, viewport)
    try:
        assert len(charts) >= 10, charts
        assert [chart for chart, drawn in charts if not drawn] == []
        assert severe_errors(browser) == []

        width = VIEWPORTS[viewport][0]
        page_width, inner_width = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert inner_width == width  # the page was not zoomed out to fit something too wide
        assert page_width <= inner_width, f"the page scrolls sideways: {page_width} px on a {inner_width} px screen"
        # Cards stack in one column on the phone; every card and table box lies inside the screen.
        lefts, overflowing = browser.execute_script(
            "const cards = [...document.querySelectorAll('.grid .card')];"
            "return [new Set(cards.map(c => Math.round(c.getBoundingClientRect().left))).size,"
            " [...document.querySelectorAll('.card, .table-wrap')]"
            "   .filter(e => e.getBoundingClientRect().right > window.innerWidth).length];"
        )
        assert overflowing == 0
        if viewport == "phone":
            assert lefts == 1
            # The wide queue table scrolls sideways inside its own box.
            assert browser.execute_script(
                "const box = document.getElementById('table-queues').parentElement;"
                "return box.scrollWidth > box.clientWidth && getComputedStyle(box).overflowX === 'auto';"
            )
        else:
            assert lefts > 1

        # Every chart has Plotly's toolbar with the PNG download.
        toolbars = browser.execute_script(
            "return [...document.querySelectorAll('.js-plotly-plot')].map(plot => [plot.id,"
            " [...plot.querySelectorAll('.modebar-btn')].some(b =>"
            "   (b.getAttribute('data-title') || '').toLowerCase().startsWith('download plot'))]);"
        )
        assert [chart for chart, has_download in toolbars if not has_download] == []
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / f"report_{viewport}.png"))


def test_self_contained_no_network(report: Path, browser: webdriver.Chrome) -> None:
    html = report.read_text()
    sources = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]+)", html, re.I)
    assert [s for s in sources if re.match(r"(https?:)?//", s, re.I)] == []
    open_report(browser, report)
    assert browser.execute_script("return document.querySelectorAll('script[src], link[href^=http]').length") == 0
    assert browser.execute_script("return performance.getEntriesByType('resource').map(r => r.name)") == []


def test_headline_nps_is_the_served_one(report: Path, serving: Path, browser: webdriver.Chrome) -> None:
    open_report(browser, report)
    for grain, (period, nps) in expected_nps(serving).items():
        row = browser.find_element("css selector", f'.tile[data-kpi="nps"] .tile-row[data-period="{grain}"]')
        assert row.get_attribute("data-date") == period.isoformat(), grain
        shown = row.find_element("css selector", ".tile-value").text
        assert shown == f"{nps:.1f}", (grain, shown, nps)


def test_rates_are_the_marts_own_ratios(serving: Path) -> None:
    """The page recomputes each rate as sum(numerator measure) / sum(denominator measure), the semantic layer's
    metric: on every row of the mart it must give the mart's own rate column."""
    for mart, rates in ((DAILY_MART, DAILY_RATES), (QUEUE_MART, QUEUE_RATES), (AGENT_MART, AGENT_RATES)):
        for rate in rates:
            if rate.denominator is None:
                continue
            numerator = " + ".join(f"({rate.measures[c]})" for c in rate.numerator)
            denominator = f"({rate.measures[rate.denominator]})"
            (mismatches, rows) = query(
                serving,
                f"""select count(*) filter (where
                           ({denominator} = 0 and {rate.column} is not null)
                        or ({denominator} <> 0 and abs({rate.scale} * ({numerator}) / {denominator}
                                                       - {rate.column}) > 1e-9)
                        or ({denominator} <> 0 and {rate.column} is null)),
                        count(*)
                    from marts.{mart}""",
            )[0]
            assert rows > 0, mart
            assert mismatches == 0, (mart, rate.column)


# Every division in the report's Python, by module and function. A KPI is a semantic-layer metric (report.metrics):
# the page divides its measures (script.py's rate()), the tiles through kpis.Point.value. Anything else must be
# presentation, or a figure the semantic layer does not define yet, named here with why.
DIVISIONS_ALLOWED = {
    ("kpis.py", "value"): "Point.value: a metric's numerator over its denominator, both from the semantic layer",
    ("tiles.py", "format_delta"): "the change of a count tile in percent of the previous period",
    ("figures.py", "channel_mix"): "channel mix: the share of each channel in the bar, not a metric yet",
    ("voice.py", "_node_stats"): "IVR node hover: mean dwell and drop-off per menu, not metrics yet",
    ("voice.py", "_containment"): "IVR containment over the range: mart_ivr_containment's counts, not a metric yet",
    ("predictions.py", "coaching_table"): "seconds shown as minutes (a unit, not a ratio of counts)",
    ("predictions.py", "routing_table"): "seconds shown as minutes (a unit, not a ratio of counts)",
    # Calls and business hours are not semantic-layer metrics yet: the page re-sums mart_queue_business_hours'
    # counts over the range (the ticket KPIs are metrics: _semantic__tickets.yml).
    ("tickets.py", "queue_hours"): "calls outside hours / SL in hours over the range, not metrics yet",
}


def _divisions(source: str) -> list[tuple[str, str]]:
    """(enclosing function, expression) of every `a / b` of a module that is not a file path."""
    import ast

    out: list[tuple[str, str]] = []

    def is_path(node: ast.BinOp) -> bool:
        left, right = node.left, node.right
        named = [n.id for n in (left, right) if isinstance(n, ast.Name)]
        return (
            (isinstance(right, ast.Constant) and isinstance(right.value, str))
            or any(n.endswith(("_DIR", "_dir", "_NAME")) for n in named)
            or (isinstance(left, ast.BinOp) and is_path(left))
        )

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and not is_path(node):
            out.append((function, ast.unparse(node)))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return out


def _sql_strings(source: str) -> list[str]:
    """The string literals of a module that are SQL queries (f-strings unparsed)."""
    import ast

    texts = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append(ast.unparse(node))
    return [t for t in texts if re.search(r"\bselect\b", t, re.I) and re.search(r"\bfrom\b", t, re.I)]


def test_the_report_writes_no_kpi_formula_of_its_own() -> None:
    """Every rate the page and the tiles show is a metric of the semantic layer, and no other division of counts
    is written in the report's Python (a new `a / b` fails here until it is a metric or listed above)."""
    from contact_warehouse.report import metrics as semantic
    from contact_warehouse.report.render import HEADLINE_KPIS

    defined = semantic.load_metrics()
    for rate in [*DAILY_RATES, *QUEUE_RATES, *AGENT_RATES]:
        kpi = defined[rate.column]
        assert rate.numerator == (kpi.numerator.name,) and rate.scale == 1.0, rate
        assert rate.denominator == (kpi.denominator.name if kpi.denominator else None), rate
        assert rate.measures == {m.name: m.expr for m in (kpi.numerator, kpi.denominator) if m}, rate
    for tile in HEADLINE_KPIS:
        kpi = next(m for m in defined.values() if tile.numerator == f"sum({m.numerator.expr})" and (
            tile.denominator == (f"sum({m.denominator.expr})" if m.denominator else None)))  # fmt: skip
        assert kpi is not None, tile
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted((ROOT / "contact_warehouse" / "report").glob("*.py")):
        source = path.read_text()
        for function, expression in _divisions(source):
            found.setdefault((path.name, function), []).append(expression)
        # A ratio written in the report's SQL: sum(a) / sum(b). (script.py and template.py hold the page's JavaScript
        # and HTML, not SQL: the script divides only in rate(), with the metrics' measures.)
        for sql in [] if path.name in ("script.py", "template.py") else _sql_strings(source):
            assert not re.search(r"sum\([^()]*\)\s*(\*\s*1\.0\s*)?/\s*(sum|nullif)?\(?\w", sql), (path.name, sql)
    unexplained = {key: found[key] for key in found if key not in DIVISIONS_ALLOWED}
    assert unexplained == {}, "the report divides counts itself; make the KPI a semantic-layer metric"


def test_queue_filter_shows_only_that_queue_against_the_target(
    report: Path, serving: Path, browser: webdriver.Chrome
) -> None:
    queue, entered, within, abandoned = busiest_queue(serving)
    open_report(browser, report)
    assert len(table_rows(browser, "table-queues")) > 2  # every queue, then the total row
    pick(browser, "f-queue", queue)
    rows = table_rows(browser, "table-queues")
    assert [row[0] for row in rows] == [queue]
    assert rows[0][1] == f"{entered:,}" and rows[0][3] == f"{abandoned:,}"
    assert rows[0][4] == f"{within / entered * 100:.1f}% n={entered:,}"
    assert browser.execute_script("return document.getElementById('fig-queue-sl').data[0].y") == [queue]
    note = browser.find_element("css selector", '[data-panel="queue-table"] .target-note').text
    assert "Target from the serving file: 80% of calls answered within 20 s" in note
    # Panels whose marts have no queue say so; the queue panels themselves do not.
    assert browser.find_element("css selector", '[data-panel="selection"] .filter-note').text.startswith(
        "Not filtered by queue"
    )
    assert not browser.find_element("css selector", '[data-panel="queue-table"] .filter-note').is_displayed()
    assert severe_errors(browser) == []


def test_date_range_changes_the_volume_total_to_the_served_sum(
    report: Path, serving: Path, browser: webdriver.Chrome
) -> None:
    first, last = query(serving, f"select min(activity_date), max(activity_date) from marts.{DAILY_MART}")[0]
    start, end = first + timedelta(days=7), first + timedelta(days=13)
    (whole,) = query(serving, f"select sum(interactions) from marts.{DAILY_MART}")[0]
    (expected,) = query(
        serving, f"select sum(interactions) from marts.{DAILY_MART} where activity_date between ? and ?", [start, end]
    )[0]
    open_report(browser, report)
    total = "return document.querySelector('#sel-interactions .sel-value').dataset.value"
    assert float(browser.execute_script(total)) == whole
    set_dates(browser, start, end)
    assert float(browser.execute_script(total)) == expected != whole
    assert browser.find_element("css selector", "#sel-interactions .sel-value").text == f"{expected:,}"
    # Its CSV: one row per day of the range, the same total.
    per_day = parse_csv(browser.execute_script("return cockpit.csv('daily')"))
    assert [r["date"] for r in per_day] == [(start + timedelta(days=k)).isoformat() for k in range(7)]
    assert sum(int(r["Volume (interactions)"]) for r in per_day) == expected
    # The trend charts keep to the range; a whole-range panel says it is not filtered by date.
    days = browser.execute_script("return document.getElementById('fig-trend-interactions').data[0].x")
    assert days and min(days) >= start.isoformat() and max(days) <= end.isoformat()
    note = browser.find_element("css selector", '[data-panel="channel-mix"] .filter-note')
    assert note.is_displayed() and "date range" in note.text
    # The agent scorecard keeps the weeks that overlap the range.
    weeks = {row[1] for row in table_rows(browser, "table-agents")}
    assert weeks and all(start - timedelta(days=6) <= date.fromisoformat(w) <= end for w in weeks)
    assert severe_errors(browser) == []


def test_intent_filter_switches_the_heatmap(report: Path, serving: Path, browser: webdriver.Chrome) -> None:
    (intent,) = query(
        serving, "select intent from marts.mart_volume_patterns group by 1 order by sum(contacts) desc limit 1"
    )[0]
    open_report(browser, report)
    z = "return JSON.stringify(document.getElementById('fig-volume-heatmap').data[0].z)"
    before = browser.execute_script(z)
    pick(browser, "f-intent", intent)
    assert browser.execute_script(z) != before
    active = "return document.getElementById('fig-volume-heatmap').layout.updatemenus[0].active"
    labels = browser.execute_script(
        "return document.getElementById('fig-volume-heatmap').layout.updatemenus[0].buttons.map(b => b.label)"
    )
    assert labels[browser.execute_script(active)] == intent


def test_csv_export_is_the_table_in_the_served_numbers(
    report: Path, serving: Path, browser: webdriver.Chrome, downloads: Path
) -> None:
    queue, entered, within, abandoned = busiest_queue(serving)
    # The busiest agent of that queue (the busiest agent overall may never have worked in it).
    (agent,) = query(
        serving,
        f"""select agent_id from marts.{QUEUE_MART}
            where period_grain = 'day' and queue = ? and agent_id is not null and calls_entered_queue > 0
            group by 1 order by sum(calls_entered_queue) desc, 1 limit 1""",
        [queue],
    )[0]
    open_report(browser, report)
    browser.execute_script("cockpit.set({queue: arguments[0]})", queue)
    (row,) = parse_csv(browser.execute_script("return cockpit.csv('queues')"))
    assert row["queue"] == queue and int(row["calls_entered_queue"]) == entered
    assert int(row["abandoned_calls"]) == abandoned
    assert float(row["Service level"]) == pytest.approx(within / entered, abs=1e-6)
    assert int(row["Service level n"]) == entered and row["service_level_target"] == "0.8"
    # The queue table follows the agent filter too (its mart has agent_id): the CSV holds that selection.
    (sl_within, sl_entered) = query(
        serving,
        f"""select sum(answered_within_service_level), sum(calls_entered_queue) from marts.{QUEUE_MART}
            where period_grain = 'day' and queue = ? and agent_id = ?""",
        [queue, agent],
    )[0]
    browser.execute_script("cockpit.set({agent: arguments[0]})", agent)
    (row,) = parse_csv(browser.execute_script("return cockpit.csv('queues')"))
    assert int(row["Service level n"]) == sl_entered
    assert float(row["Service level"]) == pytest.approx(sl_within / sl_entered, abs=1e-6)

    agents = parse_csv(browser.execute_script("return cockpit.csv('agents')"))
    served = query(
        serving,
        f"""select cast(week_start as varchar), handled_contacts, closed_engagements, fcr_rate, csat_answers,
                   coaching_flags
            from marts.{AGENT_MART} where agent_id = ? order by week_start desc""",
        [agent],
    )
    assert [r["agent_id"] for r in agents] == [agent] * len(served)
    for exported, (week, handled, closed, fcr, answers, flags) in zip(agents, served, strict=True):
        assert exported["week_start"] == week and int(exported["handled_contacts"]) == handled
        assert int(exported["FCR n"]) == closed and int(exported["CSAT n"]) == answers
        if fcr is None:  # no closed engagement: no data, never 0
            assert exported["FCR"] == ""
        else:
            assert float(exported["FCR"]) == pytest.approx(fcr, abs=1e-6)
        assert int(exported["coaching_flags"]) == flags

    # The button downloads the same text (with a byte-order mark for spreadsheet programs).
    for old in downloads.glob("*.csv"):
        old.unlink()
    browser.find_element("css selector", 'button.csv[data-table="agents"]').click()
    WebDriverWait(browser, 10).until(lambda _: list(downloads.glob("cockpit-agents-*.csv")))
    (saved,) = downloads.glob("cockpit-agents-*.csv")
    assert saved.read_bytes().decode("utf-8-sig") == browser.execute_script("return cockpit.csv('agents')")


def test_agent_rates_carry_their_sample_sizes(report: Path, browser: webdriver.Chrome) -> None:
    open_report(browser, report)
    rows = table_rows(browser, "table-agents")
    assert rows
    rate_cells = [cell for row in rows for cell in row[3:-1] if cell != "–"]
    assert rate_cells and all(" n=" in cell for cell in rate_cells)
    flagged = browser.execute_script("return document.querySelectorAll('#table-agents td.flag').length")
    (served_flags,) = [
        sum(int(r["coaching_flags"]) for r in parse_csv(browser.execute_script("return cockpit.csv('agents')")))
    ]
    assert flagged == served_flags


def test_an_old_serving_file_without_handled_inbound_calls(
    serving: Path, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    old = tmp_path / "serving.duckdb"
    shutil.copy(serving, old)
    with duckdb.connect(str(old)) as con:
        con.execute(f"alter table marts.{AGENT_MART} drop column handled_inbound_calls")
        week, agent, transfer_out = con.execute(
            f"""select cast(week_start as varchar), agent_id, transfer_out_rate from marts.{AGENT_MART}
                where transfer_out_rate is not null order by week_start desc, agent_id limit 1"""
        ).fetchone()
    page = render_report(old, tmp_path / "out")
    assert "This serving file has no handled_inbound_calls" in page.read_text()
    open_report(browser, page)
    exported = parse_csv(browser.execute_script("return cockpit.csv('agents')"))
    (row,) = [r for r in exported if r["week_start"] == week and r["agent_id"] == agent]
    assert float(row["Transfer-out"]) == pytest.approx(transfer_out, abs=1e-6) and row["Transfer-out n"] == ""
    assert severe_errors(browser) == []


def test_the_target_comes_from_the_serving_file_when_it_is_there(serving: Path, tmp_path: Path) -> None:
    # The queue mart carries each queue's target (knowledge_base/queue_service_levels.csv); an analyst's 90 % in
    # 15 s shows on the page. Without the columns (an older serving file) the page assumes 80/20 and says so.
    with_target, without = tmp_path / "serving.duckdb", tmp_path / "older.duckdb"
    shutil.copy(serving, with_target)
    shutil.copy(serving, without)
    with duckdb.connect(str(with_target)) as con:
        con.execute(f"update marts.{QUEUE_MART} set service_level_seconds = 15, service_level_target = 0.9")
    with duckdb.connect(str(without)) as con:
        con.execute(f"alter table marts.{QUEUE_MART} drop column service_level_seconds")
        con.execute(f"alter table marts.{QUEUE_MART} drop column service_level_target")
    assert "assumed: 80% of calls answered within 20 s" in render_report(without, tmp_path / "older").read_text()
    html = render_report(with_target, tmp_path / "out").read_text()
    assert "Target from the serving file: 90% of calls answered within 15 s." in html
    data = json.loads(re.search(r'id="cockpit-data">(.*?)</script>', html, re.S).group(1))
    assert data["target"] == {"share": 0.9, "seconds": 15, "from_serving": True, "note": data["target"]["note"]}


def test_heatmap_dropdown_switches_intent(report: Path, browser: webdriver.Chrome) -> None:
    open_report(browser, report)
    before = browser.execute_script("return JSON.stringify(document.getElementById('fig-volume-heatmap').data[0].z)")
    buttons = browser.execute_script(
        "return document.getElementById('fig-volume-heatmap').layout.updatemenus[0].buttons.map(b => b.label)"
    )
    assert buttons[0] == "All intents" and len(buttons) > 2
    browser.execute_script(
        "const gd = document.getElementById('fig-volume-heatmap');"
        "Plotly.restyle(gd, gd.layout.updatemenus[0].buttons[1].args[0]);"
    )
    after = browser.execute_script("return JSON.stringify(document.getElementById('fig-volume-heatmap').data[0].z)")
    assert after != before


def test_every_figure_states_its_definitions(report: Path) -> None:
    html = report.read_text()
    assert html.count('class="caption"') >= 10  # every figure states its definitions
    assert "Net Promoter Score" in html  # from the dbt docs, not from the report's code


def test_a_missing_mart_shows_a_card_instead_of_crashing(serving: Path, tmp_path: Path) -> None:
    partial = tmp_path / "serving.duckdb"
    shutil.copy(serving, partial)
    with duckdb.connect(str(partial)) as con:
        con.execute(f"drop table marts.{DAILY_MART}")  # the tiles' and the trends' day rows
        con.execute("drop table marts.mart_volume_patterns")
        con.execute(f"drop table marts.{QUEUE_MART}")
    html = render_report(partial, tmp_path / "out").read_text()
    assert f"not available: {DAILY_MART} missing" in html
    assert "not available: mart_volume_patterns missing" in html
    assert f"not available: {QUEUE_MART} missing" in html
    assert 'id="fig-channel-mix"' in html  # the other figures are still drawn


def test_cli_writes_the_report(serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "--serving", str(serving), "--out", str(tmp_path / "site")]) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written == tmp_path / "site" / "index.html" and written.stat().st_size > 1_000_000


def test_readme_screenshot_from_the_seeds_sample(report: Path, browser: webdriver.Chrome) -> None:
    """The README's picture, drawn from the committed sample (seeds/) at desktop width. It goes to tests/artifacts/
    and only replaces docs/cockpit.png with CONTACT_WAREHOUSE_UPDATE_SCREENSHOT=1, so test runs leave the work tree
    clean."""
    charts = open_report(browser, report)
    assert all(drawn for _, drawn in charts), charts
    assert severe_errors(browser) == []
    update = os.environ.get("CONTACT_WAREHOUSE_UPDATE_SCREENSHOT") == "1"
    target = README_SCREENSHOT if update else ROOT / "tests" / "artifacts" / "cockpit_seeds.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    full_page_screenshot(browser, target)
    assert target.stat().st_size > 50_000
