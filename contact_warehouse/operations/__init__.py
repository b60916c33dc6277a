"""Running the warehouse in production: alerts to the people on call, which failures are worth a retry, and how
fresh each export's raw table is (``dbt source freshness``). Dagster-free; ``orchestration/`` wires them in."""
