"""The cockpit report: rendered from a serving file, drawn by headless Chromium without a JavaScript error, and
its headline NPS is the serving file's."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import load_landing
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from orchestration.cli import main
from orchestration.report import render_report
from orchestration.settings import DBT_PROJECT_DIR, DEFAULT_LANDING_DIR, ROOT, dbt_executable

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


class ServingBuilder:
    """Loads a landing folder into a warehouse, builds the models (no tests: other modules test them) and copies
    the marts schema into a serving file, as the pipeline's publication does. Every build reuses the same
    warehouse path and dbt target folder, so dbt parses the project once (partial parsing)."""

    def __init__(self, work: Path) -> None:
        self.db = work / "warehouse" / "warehouse.duckdb"  # the name dbt-duckdb puts in the manifest
        self.target = work / "dbt_target"  # never the project's target/ (shared with Dagster)
        self.logs = work / "dbt_logs"

    def build(self, landing: Path, serving: Path) -> Path:
        self.db.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (self.db, self.db.with_name(self.db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        load_landing(self.db, landing)
        result = subprocess.run(
            [
                dbt_executable(), "build",
                "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
                "--threads", "4",
                "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target-path", str(self.target), "--log-path", str(self.logs),
            ],
            env={**os.environ, "CONTACT_WAREHOUSE_DB": str(self.db)},
            capture_output=True,
            text=True,
        )  # fmt: skip
        if result.returncode != 0:
            pytest.fail(f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
        serving.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(serving)) as out:
            out.execute(f"attach '{self.db}' as build (read_only)")
            out.execute("create schema marts")
            tables = out.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'build' and table_schema = 'marts'"
            ).fetchall()
            for (table,) in tables:
                out.execute(f'create table marts."{table}" as select * from build.marts."{table}"')
        return serving


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> ServingBuilder:
    return ServingBuilder(tmp_path_factory.mktemp("report_build"))


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory, builder: ServingBuilder) -> Path:
    """The pipeline_run session's serving file when that fixture already published one, else a small generated
    landing folder built here (400 customers, 21 days)."""
    published = os.environ.get("CONTACT_WAREHOUSE_SERVING_DB")
    basetemp = tmp_path_factory.getbasetemp()
    if published and Path(published).exists() and Path(published).is_relative_to(basetemp):
        return Path(published)
    from contact_warehouse.generator import generate

    root = tmp_path_factory.mktemp("report_generated")
    generate(root / "landing", customers=400, days=21, seed=5)
    return builder.build(root / "landing", root / "serving.duckdb")


@pytest.fixture(scope="module")
def report(serving: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_report(serving, tmp_path_factory.mktemp("report"))


# ------------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def chromium() -> None:
    """Debian's chromium and chromium-driver, installed by tests/browser_setup.sh when missing."""
    result = subprocess.run(["bash", str(TESTS / "browser_setup.sh")], capture_output=True, text=True)
    if result.returncode == NO_APT:
        pytest.skip(f"headless Chromium is not installed and cannot be: {result.stderr.strip()}")
    if result.returncode != 0:
        pytest.fail(f"tests/browser_setup.sh failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr}")


@pytest.fixture
def browser(chromium: None) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1400,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The Debian driver: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


DRAWN = """
return [...document.querySelectorAll('.js-plotly-plot')].map(plot => [
    plot.id,
    [...plot.querySelectorAll('svg.main-svg')].some(svg => svg.childElementCount > 0)
        || plot.querySelector('canvas') !== null,
]);
"""


def open_report(driver: webdriver.Chrome, page: Path) -> list[list]:
    """Load the page and wait until Plotly has drawn every chart container; returns [id, drawn] per chart."""
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    expected = driver.execute_script("return document.querySelectorAll('.plotly-graph-div').length")
    WebDriverWait(driver, 30).until(lambda d: len(d.execute_script(DRAWN)) == expected)
    return driver.execute_script(DRAWN)


def full_page_screenshot(driver: webdriver.Chrome, path: Path) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(height + 40, 12000))
    driver.execute_script("window.dispatchEvent(new Event('resize'))")
    WebDriverWait(driver, 10).until(lambda d: all(drawn for _, drawn in d.execute_script(DRAWN)))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))


# ------------------------------------------------------------------------------------------ expected values


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


# ------------------------------------------------------------------------------------------ tests


def test_report_draws_every_chart_without_errors_and_shows_the_served_nps(
    report: Path, serving: Path, browser: webdriver.Chrome
) -> None:
    charts = open_report(browser, report)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        assert len(charts) >= 10, charts
        assert [chart for chart, drawn in charts if not drawn] == []

        severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == [], severe
        # Self-contained: no external script or stylesheet, nothing fetched (Plotly's JavaScript is inlined).
        assert browser.execute_script("return document.querySelectorAll('script[src], link[href^=http]').length") == 0
        assert browser.execute_script("return performance.getEntriesByType('resource').map(r => r.name)") == []

        for grain, (period, nps) in expected_nps(serving).items():
            row = browser.find_element("css selector", f'.tile[data-kpi="nps"] .tile-row[data-period="{grain}"]')
            assert row.get_attribute("data-date") == period.isoformat(), grain
            shown = row.find_element("css selector", ".tile-value").text
            assert shown == f"{nps:.1f}", (grain, shown, nps)
    finally:
        full_page_screenshot(browser, ARTIFACTS / "report.png")


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
        con.execute("drop table marts.mart_satisfaction")
        con.execute("drop table marts.mart_volume_patterns")
    html = render_report(partial, tmp_path / "out").read_text()
    assert "not available: mart_satisfaction missing" in html
    assert "not available: mart_volume_patterns missing" in html
    assert 'id="fig-channel-mix"' in html  # the other figures are still drawn


def test_cli_writes_the_report(serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "--serving", str(serving), "--out", str(tmp_path / "site")]) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written == tmp_path / "site" / "index.html" and written.stat().st_size > 1_000_000


def test_readme_screenshot_from_the_seeds_sample(
    tmp_path: Path, builder: ServingBuilder, browser: webdriver.Chrome
) -> None:
    """The README's picture, drawn from the committed sample (seeds/). It goes to tests/artifacts/ and only
    replaces docs/cockpit.png with CONTACT_WAREHOUSE_UPDATE_SCREENSHOT=1, so test runs leave the work tree clean."""
    page = render_report(builder.build(DEFAULT_LANDING_DIR, tmp_path / "serving.duckdb"), tmp_path / "site")
    charts = open_report(browser, page)
    assert all(drawn for _, drawn in charts), charts
    update = os.environ.get("CONTACT_WAREHOUSE_UPDATE_SCREENSHOT") == "1"
    target = README_SCREENSHOT if update else ROOT / "tests" / "artifacts" / "cockpit_seeds.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    full_page_screenshot(browser, target)
    assert target.stat().st_size > 50_000
