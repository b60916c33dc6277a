"""Python enrichment of raw rows before dbt: E.164 phone numbers, keyed identifier hashes and sentiment scores,
written as columns of the raw tables by the loader, so every engine's models read them as plain columns."""
