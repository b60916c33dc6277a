"""Contact-center analytics warehouse: Dagster orchestration of raw loading and the dbt project."""
