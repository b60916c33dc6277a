"""The semantic layer: `mf query` (MetricFlow) answers FCR, CSAT and ASA by week and intent with the marts' figures."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from contact_warehouse.settings import DBT_PROJECT_DIR

MF = Path(sys.executable).parent / "mf"  # the venv's MetricFlow CLI, beside its python
MF_BATCH = Path(__file__).parent / "mf_batch.py"

# The `mf query` of each test that compares MetricFlow with the marts: metrics, group-by, written as CSV.
CSV_QUERIES = {
    "kpis": ("fcr_rate,csat_rate,asa_seconds", "metric_time__week,intent"),
    "queues": ("service_level,asa_seconds", "metric_time__week,queue"),
    "segments": ("fcr_rate,csat_rate", "metric_time__week,segment"),
    "agents": ("fcr_rate,csat_rate,nps,closed_engagements,csat_answers,nps_answers", "metric_time__week,agent"),
    "transfers": ("transfer_rate", "metric_time__week,queue"),
}
# A slice a KPI cannot take, and a slice the refusal must offer instead.
REFUSED = (("transfer_rate", "agent", "'queue'"), ("fcr_rate", "queue", "'segment'"))


@dataclass(frozen=True)
class MfResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class MfRuns:
    """The module's `mf` commands, run once: their results by arguments, and the folder their CSV files are in."""

    folder: Path
    results: dict[tuple[str, ...], MfResult]

    def __getitem__(self, arguments: list[str]) -> MfResult:
        return self.results[tuple(arguments)]

    def rows(self, name: str) -> list[dict[str, str]]:
        """The rows of the CSV query ``name`` (CSV_QUERIES)."""
        arguments = _csv_arguments(name, self.folder)
        result = self[arguments]
        out = Path(arguments[arguments.index("--csv") + 1])
        if result.returncode != 0 or not out.exists():
            pytest.fail(f"mf query failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        with out.open(newline="") as handle:
            return list(csv.DictReader(handle))


def _mf_env(db: Path) -> dict[str, str]:
    return {**os.environ, "CONTACT_WAREHOUSE_DB": str(db), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}


def _csv_arguments(name: str, folder: Path) -> list[str]:
    metrics, group_by = CSV_QUERIES[name]
    return ["query", "--metrics", metrics, "--group-by", group_by, "--csv", str(folder / f"{name}.csv"), "--quiet"]


def _refused_arguments(metric: str, slice_: str) -> list[str]:
    return ["query", "--metrics", metric, "--group-by", slice_, "--quiet"]


def _documented_arguments() -> list[list[str]]:
    return [[*arguments, "--quiet"] for arguments in documented_queries()]


@pytest.fixture(scope="module")
def mf(pipeline_run, tmp_path_factory: pytest.TempPathFactory) -> MfRuns:
    """Every `mf` command of this module on the generated month, by its arguments: run in one MetricFlow process
    (tests/mf_batch.py: each command through the CLI's entry point with its own configuration, as `mf` runs it),
    since starting `mf` (its imports) was most of each command's cost. The first documented query also runs
    through the `mf` executable, and the batch must print exactly what it printed."""
    assert pipeline_run.success
    folder = tmp_path_factory.mktemp("mf")
    commands = [_csv_arguments(name, folder) for name in CSV_QUERIES]
    commands += [_refused_arguments(metric, slice_) for metric, slice_, _ in REFUSED]
    commands += _documented_arguments()
    (folder / "commands.json").write_text(json.dumps(commands))
    batch = subprocess.run(
        [sys.executable, str(MF_BATCH), str(folder / "commands.json"), str(folder / "results.json")],
        cwd=DBT_PROJECT_DIR,
        env=_mf_env(pipeline_run.db),
        capture_output=True,
        text=True,
    )
    if batch.returncode != 0:
        pytest.fail(f"tests/mf_batch.py failed:\n{batch.stdout[-4000:]}\n{batch.stderr[-4000:]}")
    results = {
        tuple(entry["arguments"]): MfResult(entry["returncode"], entry["stdout"], entry["stderr"])
        for entry in json.loads((folder / "results.json").read_text())
    }
    first = _documented_arguments()[0]
    executable = subprocess.run(
        [str(MF) if MF.exists() else "mf", *first],
        cwd=DBT_PROJECT_DIR,
        env=_mf_env(pipeline_run.db),
        capture_output=True,
        text=True,
    )
    assert executable.returncode == 0, (first, executable.stdout[-2000:], executable.stderr[-2000:])
    assert results[tuple(first)].stdout == executable.stdout, (first, results[tuple(first)], executable.stdout)
    return MfRuns(folder, results)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _number(text: str) -> float | None:
    return None if text in ("", "nan", "None") else float(text)


def test_mf_query_matches_the_marts_by_week_and_intent(pipeline_run, mf: MfRuns) -> None:
    assert pipeline_run.success
    rows = mf.rows("kpis")
    assert len(rows) > 10
    from_mf = {
        (row["metric_time__week"][:10], row["intent"]): (
            _number(row["fcr_rate"]),
            _number(row["csat_rate"]),
            _number(row["asa_seconds"]),
        )
        for row in rows
    }
    marts = pipeline_run.query(
        """with fcr as (
               select period_start, intent, sum(fcr_engagements) as num, sum(closed_engagements) as den
               from marts.mart_resolution where period_grain = 'week' group by 1, 2),
           csat as (
               select period_start, intent, sum(csat_satisfied) as num, sum(csat_answers) as den
               from marts.mart_satisfaction where period_grain = 'week' group by 1, 2),
           asa as (
               select period_start, intent, sum(answer_seconds) as num, sum(answered_calls) as den
               from marts.mart_queue_performance where period_grain = 'week' group by 1, 2),
           keys as (select period_start, intent from fcr union select period_start, intent from csat
                    union select period_start, intent from asa)
           select cast(keys.period_start as varchar), keys.intent,
                  fcr.num * 1.0 / nullif(fcr.den, 0), csat.num * 1.0 / nullif(csat.den, 0),
                  asa.num * 1.0 / nullif(asa.den, 0)
           from keys
           left join fcr using (period_start, intent)
           left join csat using (period_start, intent)
           left join asa using (period_start, intent)"""
    )
    compared = 0
    for week, intent, fcr, csat_rate, asa in marts:
        key = (week, intent)
        assert key in from_mf, f"mf query has no row for {key}"
        for name, mart_value, mf_value in zip(("fcr", "csat", "asa"), (fcr, csat_rate, asa), from_mf[key], strict=True):
            assert _close(mart_value, mf_value), f"{name} {key}: mart {mart_value}, mf {mf_value}"
            compared += mart_value is not None
    assert compared > 30


def _compare(rows: list[dict[str, str]], key_columns: tuple[str, ...], metrics: tuple[str, ...], marts) -> int:
    """Every mart row's rates equal mf's row of the same key; returns how many non-NULL rates were compared."""
    from_mf = {
        tuple(row[c][:10] if c.startswith("metric_time") else row[c] for c in key_columns): tuple(
            _number(row[m]) for m in metrics
        )
        for row in rows
    }
    compared = 0
    for row in marts:
        key, values = tuple(str(k) for k in row[: len(key_columns)]), row[len(key_columns) :]
        assert key in from_mf, f"mf query has no row for {key}"
        for name, mart_value, mf_value in zip(metrics, values, from_mf[key], strict=True):
            assert _close(mart_value, mf_value), f"{name} {key}: mart {mart_value}, mf {mf_value}"
            compared += mart_value is not None
    assert len(from_mf) == len(marts), "mf query has rows the marts do not"
    return compared


def test_queue_sliced_metrics_match_mart_queue_performance(pipeline_run, mf: MfRuns) -> None:
    """`--group-by queue` (semantic model queue_day) gives mart_queue_performance's weekly service level and ASA per
    queue: the same calls, re-summed over agents, channels and intents, divided last."""
    assert pipeline_run.success
    rows = mf.rows("queues")
    marts = pipeline_run.query(
        """select cast(period_start as varchar), queue,
                  sum(answered_within_service_level) * 1.0 / nullif(sum(calls_entered_queue), 0),
                  sum(answer_seconds) * 1.0 / nullif(sum(answered_calls), 0)
           from marts.mart_queue_performance where period_grain = 'week' group by 1, 2"""
    )
    assert {row[1] for row in marts} >= {"billing", "sales", "tech_support"}
    assert _compare(rows, ("metric_time__week", "queue"), ("service_level", "asa_seconds"), marts) > 20


def test_segment_sliced_metrics_match_the_marts(pipeline_run, mf: MfRuns) -> None:
    """`--group-by segment` (semantic model outcome_day) gives each segment's weekly FCR and CSAT from the
    engagements and answers of its customers; mart_segment_outcomes' counts summed over segments are
    mart_resolution's and mart_satisfaction's (so the segment split loses and adds nothing)."""
    assert pipeline_run.success
    rows = mf.rows("segments")
    # The segment's figures, from the hierarchy (each customer's segment beside their engagements and answers).
    marts = pipeline_run.query(
        """with segments as (select customer_key, segment from marts.fct_customer_journeys),
           fcr as (
               select {week} as week, coalesce(segment, 'unknown') as segment,
                      sum(case when is_first_contact_resolved then 1 else 0 end) as num,
                      sum(case when is_first_contact_resolved is not null then 1 else 0 end) as den
               from marts.fct_engagements left join segments using (customer_key) group by 1, 2),
           csat as (
               select {answer_week} as week, coalesce(segment, 'unknown') as segment,
                      sum(case when score >= 4 then 1 else 0 end) as num, count(*) as den
               from marts.fct_survey_answers left join segments using (customer_key)
               where survey_type = 'csat' and is_valid_score group by 1, 2),
           keys as (select week, segment from fcr union select week, segment from csat)
           select cast(keys.week as varchar), keys.segment,
                  fcr.num * 1.0 / nullif(fcr.den, 0), csat.num * 1.0 / nullif(csat.den, 0)
           from keys left join fcr using (week, segment) left join csat using (week, segment)""".format(
            week=_local_week("started_at"), answer_week=_local_week("responded_at")
        )
    )
    assert {row[1] for row in marts} >= {"at_risk", "frequent_contacter", "regular"}
    assert _compare(rows, ("metric_time__week", "segment"), ("fcr_rate", "csat_rate"), marts) > 10
    differences = pipeline_run.query(
        """with by_segment as (
               select activity_date, channel, intent, sum(closed_engagements) as closed,
                      sum(fcr_engagements) as fcr, sum(csat_answers) as csat, sum(csat_satisfied) as satisfied
               from marts.mart_segment_outcomes group by 1, 2, 3),
           marts as (
               select activity_date, channel, intent, sum(closed) as closed, sum(fcr) as fcr, sum(csat) as csat,
                      sum(satisfied) as satisfied
               from (select period_start as activity_date, coalesce(first_channel, 'unknown') as channel,
                            intent, closed_engagements as closed, fcr_engagements as fcr, 0 as csat, 0 as satisfied
                     from marts.mart_resolution where period_grain = 'day'
                     union all
                     select period_start, channel, intent, 0, 0, csat_answers, csat_satisfied
                     from marts.mart_satisfaction where period_grain = 'day')
               group by 1, 2, 3)
           select * from by_segment full join marts using (activity_date, channel, intent)
           where coalesce(by_segment.closed, 0) <> coalesce(marts.closed, 0)
              or coalesce(by_segment.fcr, 0) <> coalesce(marts.fcr, 0)
              or coalesce(by_segment.csat, 0) <> coalesce(marts.csat, 0)
              or coalesce(by_segment.satisfied, 0) <> coalesce(marts.satisfied, 0)"""
    )
    assert differences == []


def test_agent_sliced_outcomes_match_the_scorecard(pipeline_run, mf: MfRuns) -> None:
    """`--group-by agent` gives FCR and CSAT per agent and week equal to mart_agent_scorecard's (the engagement's
    first interaction's agent, the rated transaction's agent), NPS per agent from the answers of the transactions
    each agent handled, and the agents' counts add up to every closed engagement and answer once (agent 'none' for
    those without an agent): the split neither loses nor double counts."""
    assert pipeline_run.success
    rows = mf.rows("agents")
    from_mf = {(row["metric_time__week"][:10], row["agent"]): row for row in rows}
    scorecard = pipeline_run.query(
        """select cast(week_start as varchar), agent_id, fcr_rate, csat_rate, closed_engagements, csat_answers
           from marts.mart_agent_scorecard"""
    )
    compared = 0
    for week, agent, fcr, csat_rate, closed, answers in scorecard:
        row = from_mf.get((week, agent))
        if row is None:  # an agent-week of calls only: no engagement of theirs closed, no answer rates them
            assert closed == 0 and answers == 0, f"mf query has no row for {(week, agent)}"
            continue
        for name, mart_value in (("fcr_rate", fcr), ("csat_rate", csat_rate)):
            assert _close(mart_value, _number(row[name])), f"{name} {(week, agent)}: mart {mart_value}, mf {row[name]}"
            compared += mart_value is not None
    assert compared > 100
    assert {agent for _, agent in from_mf} - {agent for _, agent, *_ in scorecard} == {"none"}
    # NPS per agent and week, from the answers and the transactions they rate (no mart has it).
    nps = pipeline_run.query(
        """select cast({week} as varchar), coalesce(transactions.agent_id, 'none'),
                  100.0 * (sum(case when score >= 9 then 1 else 0 end) - sum(case when score <= 6 then 1 else 0 end))
                  / count(*)
           from marts.fct_survey_answers as answers
           left join marts.fct_transactions as transactions using (transaction_id)
           where survey_type = 'nps' and is_valid_score group by 1, 2""".format(week=_local_week("responded_at"))
    )
    assert len(nps) > 50
    for week, agent, value in nps:
        assert _close(value, _number(from_mf[(week, agent)]["nps"])), (week, agent, value, from_mf[(week, agent)])
    # Every closed engagement and valid answer in exactly one agent's row.
    totals = pipeline_run.query(
        """select (select count(is_first_contact_resolved) from marts.fct_engagements),
                  (select count(*) from marts.fct_survey_answers where is_valid_score and survey_type = 'csat'),
                  (select count(*) from marts.fct_survey_answers where is_valid_score and survey_type = 'nps')"""
    )[0]
    summed = tuple(sum(int(row[c] or 0) for row in rows) for c in ("closed_engagements", "csat_answers", "nps_answers"))
    assert summed == totals


def test_transfer_rate_by_queue_matches_mart_transfers(pipeline_run, mf: MfRuns) -> None:
    """`--group-by queue` gives the weekly transfer rate per queue of mart_transfers (a call in the queue of its first
    leg, once), re-summed over intents and divided last."""
    assert pipeline_run.success
    rows = mf.rows("transfers")
    marts = pipeline_run.query(
        """select cast(period_start as varchar), queue,
                  sum(transferred_calls) * 1.0 / nullif(sum(transfer_answered_calls), 0)
           from marts.mart_transfers where period_grain = 'week' group by 1, 2"""
    )
    assert {row[1] for row in marts} >= {"billing", "sales", "tech_support"}
    assert _compare(rows, ("metric_time__week", "queue"), ("transfer_rate",), marts) > 10


def test_a_slice_a_kpi_cannot_take_is_refused(pipeline_run, mf: MfRuns) -> None:
    """A transferred call passes through several agents, an engagement through no queue: `mf query` refuses transfer
    rate by agent and FCR by queue with a message naming the slice, instead of counting a call once per agent."""
    assert pipeline_run.success
    for metric, slice_, offered in REFUSED:
        result = mf[_refused_arguments(metric, slice_)]
        output = result.stdout + result.stderr
        assert result.returncode != 0, (metric, slice_, output[-2000:])
        assert "does not match any of the available group-by-items" in output, output[-2000:]
        assert offered in output, output[-2000:]  # the slices it can take are listed


def _local_week(column: str) -> str:
    """The Monday of a UTC timestamp's week in the reporting time zone (the marts' weeks), as DuckDB SQL."""
    import yaml

    zone = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["reporting_timezone"]
    return f"cast(date_trunc('week', timezone('{zone}', {column} at time zone 'UTC')) as date)"


def documented_queries() -> list[list[str]]:
    """Every `mf query` command of docs/semantic_layer.md, as arguments after `mf`."""
    import re
    import shlex

    from contact_warehouse.settings import ROOT

    text = (ROOT / "docs" / "semantic_layer.md").read_text().replace("\\\n", " ")
    return [shlex.split(line) for line in re.findall(r"^\.\./\.venv/bin/mf (query .+)$", text, re.M)]


def test_every_documented_query_runs(pipeline_run, mf: MfRuns) -> None:
    """The five questions of docs/semantic_layer.md (and the extra one) answer on the generated month."""
    assert pipeline_run.success
    queries = _documented_arguments()
    assert len(queries) >= 5
    for arguments in queries:
        result = mf[arguments]
        assert result.returncode == 0 and "ERROR" not in result.stdout, (
            arguments,
            result.stdout[-2000:],
            result.stderr[-2000:],
        )
        assert len(result.stdout.strip().splitlines()) >= 3, (arguments, result.stdout)  # a header, a rule, a row


def test_the_unit_tests_copy_of_the_metrics_is_current() -> None:
    """dbt unit tests read the metrics from a macro written from the semantic YAML (their graph has none); a metric
    edited in the YAML without rewriting it would leave the unit tests checking the old formula."""
    from contact_warehouse.report.metrics_macro import MACRO_PATH, render

    assert MACRO_PATH.read_text() == render(), "run `python -m contact_warehouse.report.metrics_macro`"


def _ratio_metric_names() -> set[str]:
    import yaml

    names: set[str] = set()
    for path in (DBT_PROJECT_DIR / "models" / "marts" / "semantic").glob("*.yml"):
        for metric in yaml.safe_load(path.read_text()).get("metrics") or []:
            if metric["type"] == "ratio":
                names.add(metric["name"])
    return names


def test_no_mart_writes_a_metric_formula_of_its_own() -> None:
    """Every KPI is defined once: a mart column named after a ratio metric (fcr_rate, service_level, aht_seconds ...)
    is compiled from the metric (macro metric_sql, with the mart's own names for the counts where they differ), or
    passes through a column computed that way upstream (`cast(service_level as ...) as service_level`). A mart that
    divides the counts itself would keep its formula when the metric's definition changes."""
    import re

    names = _ratio_metric_names()
    assert {"fcr_rate", "csat_rate", "asa_seconds", "service_level", "transfer_rate"} <= names
    offenders = []
    for path in sorted((DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")):
        if "semantic" in path.parts:
            continue
        sql = re.sub(r"\b(from|join)\s+[\w.]+\s+as\s+\w+", "", path.read_text())  # table aliases (`join x as nps`)
        for name in sorted(names):
            cast = r"\s+as\s+(\{\{.*?\}\}|[\w(), ]+?)\)"  # `cast(x as double)`, `cast(x as {{ type_double() }})`
            passed_through = re.sub(rf"(cast\(\s*)?(\w+\.)?{name}({cast})?\s+as\s+{name}\b", "", sql)
            if re.search(rf"\bas\s+{name}\b", passed_through) and f"metric_sql('{name}'" not in sql:
                offenders.append(f"{path.relative_to(DBT_PROJECT_DIR)}: {name}")
    assert not offenders, "write these rates with {{ metric_sql('<metric>') }}:\n" + "\n".join(offenders)
