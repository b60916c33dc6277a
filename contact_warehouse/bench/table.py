"""The benchmark's printed table: one column per size, then each size's slowest dbt models and the growth
between sizes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


TABLE_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("events", lambda r: r["data"]["events"]),
    ("export files / MB", lambda r: f"{r['data']['files']} / {r['data']['bytes'] / 1e6:,.1f}"),
    ("floor s (read every export once)", lambda r: r["floor"]["seconds"]),
    ("  floor CPU s", lambda r: r["floor"]["cpu_seconds"]),
    # Results of two runs compare only when this agrees (bench.run.python_probe_seconds).
    ("python probe CPU s", lambda r: r.get("machine", {}).get("python_probe_cpu_seconds", "-")),
    ("full build s (wall)", lambda r: r["full_build"]["wall_seconds"]),
    ("  CPU s (all processes)", lambda r: r["full_build"]["cpu_seconds"]),
    ("  load s", lambda r: r["full_build"]["load_seconds"]),
    ("  dbt step s", lambda r: r["full_build"]["dbt_step_seconds"]),
    ("  dbt models s", lambda r: r["full_build"]["dbt_models_seconds"]),
    ("  dbt tests s (data + unit)", lambda r: r["full_build"]["dbt_tests_seconds"]),
    ("  expectations s", lambda r: r["full_build"]["expectations_seconds"]),
    ("  publication s", lambda r: r["full_build"]["publication_seconds"]),
    ("  orchestration overhead s", lambda r: r["full_build"]["dagster_overhead_seconds"]),
    ("  dbt Python models s (share of models)", lambda r: _python_cell(r["full_build"])),
    ("  peak RSS GiB", lambda r: r["full_build"]["peak_rss_gib"]),
    ("increment events", lambda r: r["data"]["increment_events"]),
    ("increment s (wall)", lambda r: r["increment"]["wall_seconds"]),
    ("  CPU s (all processes)", lambda r: r["increment"]["cpu_seconds"]),
    # bench --increments N: the night measured N times, the run of median CPU reported (analysis.median_increment).
    ("  nights measured (median shown)", lambda r: len(r["increment"].get("repeats", {}).get("cpu_seconds", [0]))),
    ("  load s", lambda r: r["increment"]["load_seconds"]),
    ("  dbt models s", lambda r: r["increment"]["dbt_models_seconds"]),
    ("  dbt tests s", lambda r: r["increment"]["dbt_tests_seconds"]),
    ("  orchestration overhead s", lambda r: r["increment"]["dagster_overhead_seconds"]),
    ("  peak RSS GiB", lambda r: r["increment"]["peak_rss_gib"]),
    ("full build / floor (target <= 20)", lambda r: r["ratios"]["full_build_over_floor"]),
    ("increment / full build (target <= 0.15)", lambda r: r["ratios"]["increment_over_full_build"]),
    ("load / floor (target <= 3)", lambda r: r["ratios"].get("load_over_floor", "-")),
    ("full build / floor, CPU time", lambda r: r["ratios"]["full_build_over_floor_cpu"]),
    ("increment / full build, CPU time", lambda r: r["ratios"]["increment_over_full_build_cpu"]),
)


def _python_cell(run: dict[str, Any]) -> str:
    if "python_models_seconds" not in run:  # results saved before the Python models were measured
        return "-"
    return f"{run['python_models_seconds']:,.1f} ({run['python_models_share_of_models']:.0%})"


def format_table(
    results: dict[str, dict[str, Any]],
    growth_rows: Sequence[dict[str, Any]] = (),
    history_rows: Sequence[dict[str, Any]] = (),
) -> str:
    names = list(results)
    width = max(len(label) for label, _ in TABLE_ROWS) + 2
    lines = [f"{'':<{width}}" + "".join(f"{name:>16}" for name in names)]
    for label, getter in TABLE_ROWS:
        lines.append(f"{label:<{width}}" + "".join(f"{_fmt(getter(results[n])):>16}" for n in names))
    for name in names:
        lines.append(f"\n{name}: top dbt models of the full build (s)")
        for row in results[name]["full_build"]["top_models"]:
            lines.append(f"  {row['seconds']:>10,.2f}  {row['model']}")
    for row in growth_rows:
        verdict = "met" if row["met"] else "NOT met"
        lines.append(
            f"\ngrowth {row['from']} -> {row['to']}: {row['events_ratio']:.2f}x events, full build "
            f"{row['full_build_time_ratio']:.2f}x time, {row['full_build_cpu_ratio']:.2f}x CPU "
            f"(time at most {row['time_ratio_max']:.2f}x: {verdict})"
        )
    for row in history_rows:
        verdict = "met" if row["met"] else "NOT met"
        lines.append(
            f"\nincrement on {row['long_days']} days / on {row['short_days']} days ({row['long']} / {row['short']}): "
            f"{row['increment_time_ratio']:.2f}x time, {row['increment_cpu_ratio']:.2f}x CPU, "
            f"{row['increment_events_ratio']:.2f}x new events (at most {row['max']:.2f}x: {verdict})"
        )
    return "\n".join(lines)
