"""The semantic layer: `mf query` (MetricFlow) answers FCR, CSAT and ASA by week and intent with the marts' figures."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contact_warehouse.settings import DBT_PROJECT_DIR

MF = Path(sys.executable).parent / "mf"  # the venv's MetricFlow CLI, beside its python


def _mf_query(db: Path, out: Path, metrics: str, group_by: str) -> list[dict[str, str]]:
    env = {**os.environ, "CONTACT_WAREHOUSE_DB": str(db), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    mf = str(MF) if MF.exists() else "mf"
    result = subprocess.run(
        [mf, "query", "--metrics", metrics, "--group-by", group_by, "--csv", str(out), "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not out.exists():
        pytest.fail(f"mf query failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _number(text: str) -> float | None:
    return None if text in ("", "nan", "None") else float(text)


def test_mf_query_matches_the_marts_by_week_and_intent(pipeline_run, tmp_path: Path) -> None:
    assert pipeline_run.success
    rows = _mf_query(
        pipeline_run.db, tmp_path / "kpis.csv", "fcr_rate,csat_rate,asa_seconds", "metric_time__week,cockpit__intent"
    )
    assert len(rows) > 10
    from_mf = {
        (row["metric_time__week"][:10], row["cockpit__intent"]): (
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


def documented_queries() -> list[list[str]]:
    """Every `mf query` command of docs/semantic_layer.md, as arguments after `mf`."""
    import re
    import shlex

    from contact_warehouse.settings import ROOT

    text = (ROOT / "docs" / "semantic_layer.md").read_text().replace("\\\n", " ")
    return [shlex.split(line) for line in re.findall(r"^\.\./\.venv/bin/mf (query .+)$", text, re.M)]


def test_every_documented_query_runs(pipeline_run) -> None:
    """The five questions of docs/semantic_layer.md (and the extra one) answer on the generated month."""
    assert pipeline_run.success
    queries = documented_queries()
    assert len(queries) >= 5
    env = {**os.environ, "CONTACT_WAREHOUSE_DB": str(pipeline_run.db), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    mf = str(MF) if MF.exists() else "mf"
    for arguments in queries:
        result = subprocess.run(
            [mf, *arguments, "--quiet"], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0 and "ERROR" not in result.stdout, (
            arguments,
            result.stdout[-2000:],
            result.stderr[-2000:],
        )
        assert len(result.stdout.strip().splitlines()) >= 3, (arguments, result.stdout)  # a header, a rule, a row
