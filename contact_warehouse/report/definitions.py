"""KPI definitions for the figures' captions, taken at render time from the dbt docs.

The dbt manifest is the source (`report.glossary.load_entries` for KPI columns, plus the column and model
descriptions); without a manifest, the generated glossary docs/kpi_glossary.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from contact_warehouse.report.glossary import KpiEntry, load_entries
from contact_warehouse.settings import DBT_PROJECT_DIR, GLOSSARY_PATH

DEFAULT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


@dataclass
class Definitions:
    kpis: dict[tuple[str, str], KpiEntry] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    source: str = "none"

    def of(self, model: str, column: str) -> str:
        """One sentence defining a mart column: its KPI entry, else its column description."""
        entry = self.kpis.get((model, column))
        if entry is not None:
            denominator = f" Denominator: {entry.denominator}." if entry.denominator else ""
            return f"{entry.kpi}: {entry.definition}{denominator}"
        description = self.columns.get((model, column))
        if description:
            return f"{column}: {description}"
        return f"{model}.{column}: not in the glossary."

    def model(self, name: str) -> str:
        """The first sentence(s) of a model's description, markdown stripped."""
        text = self.models.get(name, "")
        paragraph = text.strip().split("\n\n")[0]
        paragraph = re.sub(r"[*`]", "", " ".join(paragraph.split()))
        sentences = re.split(r"(?<=\.)\s+", paragraph)
        return " ".join(sentences[:2])


def load_definitions(manifest_path: Path | None = None, glossary_path: Path = GLOSSARY_PATH) -> Definitions:
    manifest_path = manifest_path or DEFAULT_MANIFEST
    if manifest_path.exists():
        return _from_manifest(manifest_path)
    if glossary_path.exists():
        return _from_markdown(glossary_path)
    return Definitions()


def _from_manifest(path: Path) -> Definitions:
    manifest = json.loads(path.read_text())
    defs = Definitions(kpis={(e.model, e.column): e for e in load_entries(path)}, source=f"dbt manifest {path.name}")
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        defs.models[node["name"]] = str(node.get("description", ""))
        for column in node.get("columns", {}).values():
            description = " ".join(str(column.get("description", "")).split())
            if description:
                defs.columns[(node["name"], column["name"])] = description
    return defs


def _from_markdown(path: Path) -> Definitions:
    defs = Definitions(source=path.name)
    for line in path.read_text().splitlines():
        if not line.startswith("| ") or line.startswith("| KPI |"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != 5:
            continue
        kpi, definition, denominator, model, column = cells
        entry = KpiEntry(kpi, definition, denominator, model.strip("`"), column.strip("`"))
        defs.kpis[(entry.model, entry.column)] = entry
    return defs
