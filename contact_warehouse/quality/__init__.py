"""Data quality beyond dbt's tests: Great Expectations suites (``expectations/``), read (suites), validated against
a model's rows (validation) read from the warehouse (frames). ``orchestration/checks.py`` makes each suite a Dagster
asset check; expectations/README.md says which tool checks what."""
