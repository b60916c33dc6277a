"""What int_staffing_actuals computes, and what a nightly run recomputes of it (issue 22).

Every row of mart_staffing_queue_intervals gets its queue's target and, where nothing was answered, the queue's
recent AHT (the stand-in for the interval's own), then a fingerprint of all of them: Erlang C
(plan.required_for_actuals) is a function of that row alone, so a row whose fingerprint is the one stored with last
night's result is still right.
A nightly run computes the new intervals and those whose inputs changed (a late correction, a new target, the
recent AHT of the days after a corrected one); the incremental strategy 'staffing_interval_changes'
(macros/incremental_staffing.sql) replaces those rows and deletes the intervals that no longer exist.

The inputs are DuckDB relations on every engine (the Python step reads the engine's tables into DuckDB), so this
SQL is DuckDB's."""

from __future__ import annotations

import duckdb

KEY = "staffing_queue_interval_key"
FINGERPRINT = "_input_fingerprint"
# Days of the queue's calls behind the AHT of an interval where nothing was answered (var
# staffing_fallback_aht_days): the interval's reporting day and the days before it.
FALLBACK_AHT_DAYS = 28
TARGET_COLUMNS = ("service_level_target", "max_occupancy", "shrinkage")  # service_level_seconds: the mart's own


def planning_inputs(
    intervals: duckdb.DuckDBPyRelation, targets: duckdb.DuckDBPyRelation, fallback_days: int
) -> duckdb.DuckDBPyRelation:
    """Every interval row with its queue's target, ``fallback_aht_seconds`` (for an interval where nothing was
    answered: handle seconds / answered calls of the queue in the interval's reporting day and the
    ``fallback_days`` - 1 days before it, same interval length; NULL otherwise, or when none was answered there
    either) and ``_input_fingerprint`` (a hash of all of them, as text)."""
    if fallback_days < 1:
        raise ValueError(f"staffing_fallback_aht_days must be at least 1, got {fallback_days}")
    columns = [column for column in intervals.columns if column not in TARGET_COLUMNS]
    targeted = intervals.project(", ".join(f'"{c}"' for c in columns)).join(
        targets.project(f"queue as target_queue, {', '.join(TARGET_COLUMNS)}"), "queue = target_queue", how="left"
    )
    kept = ", ".join(f'"{c}"' for c in [*columns, *TARGET_COLUMNS])
    # The virtual table's name must not be a table of the connection's (that one would be read).
    return targeted.query(
        "staffing_actuals_intervals",
        f"""
        with daily as (
            select interval_minutes, queue, activity_date,
                sum(handle_seconds) as handle_seconds, sum(answered_contacts) as answered_contacts
            from staffing_actuals_intervals as intervals
            group by interval_minutes, queue, activity_date
        ),

        recent as (
            select interval_minutes, queue, activity_date,
                sum(handle_seconds) over recent_days / nullif(sum(answered_contacts) over recent_days, 0) as aht
            from daily
            window recent_days as (
                partition by interval_minutes, queue order by activity_date
                range between interval {fallback_days - 1} day preceding and current row
            )
        ),

        joined as (
            select
                intervals.*,
                -- Only where it is used: an interval with an AHT of its own does not change with its queue's.
                case when intervals.answered_contacts = 0 then cast(recent.aht as double) end as fallback_aht_seconds
            from staffing_actuals_intervals as intervals
            left join recent
                on intervals.interval_minutes = recent.interval_minutes
                and intervals.queue = recent.queue
                and intervals.activity_date = recent.activity_date
        )

        select {kept}, fallback_aht_seconds, cast(hash({kept}, fallback_aht_seconds) as varchar) as {FINGERPRINT}
        from joined
        """,
    )


def rows_to_compute(inputs: duckdb.DuckDBPyRelation, previous: str) -> duckdb.DuckDBPyRelation:
    """The input rows without a row of the same key and fingerprint in ``previous`` (last night's table, on the
    inputs' connection): new intervals and changed ones."""
    return inputs.query(
        "staffing_actuals_inputs",
        f"""
        select inputs.* from staffing_actuals_inputs as inputs
        anti join {previous} as built
            on built.{KEY} = inputs.{KEY} and built.{FINGERPRINT} = inputs.{FINGERPRINT}
        """,
    )


def require_fingerprints(inputs: duckdb.DuckDBPyRelation, previous: str) -> None:
    """Stops a nightly run on a table built before the actuals became incremental, with the command that rebuilds
    it (the same words as macro require_built_with)."""
    if FINGERPRINT not in inputs.query("inputs", f"select * from {previous} limit 0").columns:
        raise ValueError(
            f"{previous} was built before it became incremental by interval (it has no {FINGERPRINT})."
            " Rebuild it once: `contact-warehouse run --full-refresh` (or dbt build --full-refresh)."
        )
