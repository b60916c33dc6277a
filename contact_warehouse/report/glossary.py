"""The KPI glossary, generated from the dbt docs: every mart column whose `meta` names a `kpi`.

The dbt YAML is the single source: a KPI column's description is its definition, `meta.denominator` its
denominator. `contact-warehouse glossary` writes docs/kpi_glossary.md from the manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KpiEntry:
    kpi: str
    definition: str
    denominator: str
    model: str
    column: str


def load_entries(manifest_path: Path) -> list[KpiEntry]:
    manifest = json.loads(manifest_path.read_text())
    entries = []
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        for column in node.get("columns", {}).values():
            meta = column.get("meta") or column.get("config", {}).get("meta") or {}
            if "kpi" not in meta:
                continue
            entries.append(
                KpiEntry(
                    kpi=str(meta["kpi"]),
                    definition=" ".join(str(column.get("description", "")).split()),
                    denominator=str(meta.get("denominator", "")),
                    model=node["name"],
                    column=column["name"],
                )
            )
    return sorted(entries, key=lambda e: (e.kpi.lower(), e.model, e.column))


def render_markdown(entries: list[KpiEntry]) -> str:
    lines = [
        "# KPI glossary",
        "",
        "Generated from the dbt docs by `contact-warehouse glossary` (do not edit by hand: edit the column's",
        "description and `meta` in the model's YAML). Definitions follow `docs/domain.md` and `docs/kpis.md`; the",
        "reasons behind each choice are in `DECISIONS.md`.",
        "",
        "| KPI | definition | denominator | model | column |",
        "|---|---|---|---|---|",
    ]
    for e in entries:
        cells = [e.kpi, e.definition, e.denominator, f"`{e.model}`", f"`{e.column}`"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_glossary(manifest_path: Path, out: Path) -> int:
    entries = load_entries(manifest_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(entries))
    return len(entries)
