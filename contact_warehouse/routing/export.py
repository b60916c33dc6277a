"""Write the routing recommendations of a serving file as CSV beside it, for a routing engine to import.

``routing_recommendations.csv``: one row per segment x intent x recommended agent (mart_routing_recommendations
where is_recommended), best first. ``customer_routing.csv``: one row per customer of a named segment with the
recommended skill and agent (mart_customer_routing). Each file is written to a temporary name and renamed, so an
engine polling the folder never reads half a file; a serving file without the marts writes no file.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

ROUTING_CSV = "routing_recommendations.csv"
CUSTOMER_ROUTING_CSV = "customer_routing.csv"

_QUERIES = {
    ROUTING_CSV: (
        "mart_routing_recommendations",
        "select segment, intent, agent_id, agent_rank, resolution_known_contacts, resolution_rate, "
        "resolution_lower_bound, csat_answers, csat_rate, aht_seconds from marts.mart_routing_recommendations "
        "where is_recommended order by segment, intent, agent_rank",
    ),
    CUSTOMER_ROUTING_CSV: (
        "mart_customer_routing",
        "select customer_ref, customer_key, segment, latest_intent, recommended_skill, recommended_agent_id, "
        "recommendation_basis from marts.mart_customer_routing order by segment, customer_ref, customer_key",
    ),
}


def export_routing_csv(serving_db: Path | str) -> list[Path]:
    """Write the routing CSV files beside ``serving_db``; returns the paths written."""
    serving_db = Path(serving_db)
    written = []
    with duckdb.connect(str(serving_db), read_only=True) as con:
        tables = {
            r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
        for name, (table, sql) in _QUERIES.items():
            if table not in tables:
                continue
            target = serving_db.with_name(name)
            temp = target.with_name(f".{name}.tmp")
            con.execute(f"copy ({sql}) to '{temp.as_posix()}' (header, delimiter ',')")
            os.replace(temp, target)
            written.append(target)
    return written
