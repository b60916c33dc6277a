"""DuckDB connection settings and the dbt-duckdb plugins (settings, UDFs) that profiles.yml names."""
