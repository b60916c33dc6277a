"""An independent reference implementation of the cockpit KPIs, written from DOMAIN.md and DECISIONS.md only.

It reads the raw export files of a landing folder with pandas and recomputes every KPI, so that the dbt marts can
be compared with a second implementation that did not share their SQL (see README.md in this folder).
"""
