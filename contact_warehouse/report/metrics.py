"""The KPI definitions the report computes with: the semantic layer's metrics, read from its YAML.

`dbt_project/models/marts/semantic/_semantic__models.yml` defines every cockpit KPI once, as a ratio of two
measures (a measure is a mart column, or an `expr` over the mart's columns). MetricFlow answers `mf query` from it,
`mart_cockpit_daily` compiles its rate columns from it (dbt macro `metric_sql`), and the report reads it here: the
page re-sums each measure over the filtered rows and divides numerator by denominator. No KPI formula is written in
the report's Python or JavaScript (tests/test_report.py checks it).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from contact_warehouse.settings import DBT_PROJECT_DIR

SEMANTIC_YAML = DBT_PROJECT_DIR / "models" / "marts" / "semantic" / "_semantic__models.yml"
# Every semantic YAML of the folder (the cockpit's in SEMANTIC_YAML, the help desk's in _semantic__tickets.yml).
SEMANTIC_GLOB = "_semantic__*.yml"
_IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


@dataclass(frozen=True)
class Measure:
    name: str
    expr: str  # SQL over one row of the mart (its `expr`, else its name)

    @property
    def columns(self) -> set[str]:
        """The mart columns the expression reads (a mart lacking one cannot give this measure)."""
        return set(_IDENTIFIER.findall(self.expr))


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    numerator: Measure
    denominator: Measure | None  # None: a count (a simple metric)


class SemanticLayerError(ValueError):
    """The semantic YAML does not define a metric the report needs, or defines one the report cannot compute."""


@functools.cache
def load_metrics(path: Path = SEMANTIC_YAML) -> dict[str, Metric]:
    """Every simple and ratio metric of the semantic layer, by name, with its measures' expressions: those of
    ``path`` and of the other semantic YAML files beside it."""
    documents = [
        yaml.safe_load(p.read_text()) or {} for p in sorted({Path(path), *Path(path).parent.glob(SEMANTIC_GLOB)})
    ]
    measures = {
        m["name"]: Measure(m["name"], str(m.get("expr") or m["name"]))
        for document in documents
        for model in document.get("semantic_models", [])
        for m in model.get("measures", [])
    }
    specs = {m["name"]: m for document in documents for m in document.get("metrics", [])}

    def simple(name: str) -> Measure:
        spec = specs.get(name)
        if spec is None or spec["type"] != "simple":
            raise SemanticLayerError(f"{path}: metric {name!r} must be a simple metric (one measure)")
        measure = spec["type_params"]["measure"]
        return measures[measure if isinstance(measure, str) else measure["name"]]

    metrics = {}
    for name, spec in specs.items():
        label, description = str(spec.get("label", name)), " ".join(str(spec.get("description", "")).split())
        if spec["type"] == "simple":
            metrics[name] = Metric(name, label, description, simple(name), None)
        elif spec["type"] == "ratio":
            params = spec["type_params"]
            numerator, denominator = (
                p if isinstance(p, str) else p["name"] for p in (params["numerator"], params["denominator"])
            )
            metrics[name] = Metric(name, label, description, simple(numerator), simple(denominator))
    return metrics


def metric(name: str) -> Metric:
    try:
        return load_metrics()[name]
    except KeyError:
        raise SemanticLayerError(f"{SEMANTIC_YAML}: no simple or ratio metric named {name!r}") from None
