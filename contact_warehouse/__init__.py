"""The warehouse's libraries, free of Dagster: one concern per subfolder (``generator/`` writes synthetic
vendor exports, ``loading/`` loads them into the ``raw`` schema, ``bench/`` measures the pipeline at growing
sizes), each usable and testable without Dagster. ``orchestration/`` is the thin layer on top that holds only
Dagster definitions (assets, checks, jobs, schedules, sensors, resources) and calls into these libraries;
nothing here imports ``dagster`` or ``dagster_dbt`` (tests/test_layout.py checks it), so a library can be
reused from a script, a notebook or another orchestrator.
"""
