"""The semantic layer's metrics as a dbt macro that dbt unit tests can read, written from the semantic YAML.

dbt compiles a unit test against a manifest holding only the tested model, its inputs and the macros: its `graph`
has no metrics, so macro `metric_sql` cannot read a KPI's definition there, and a unit test of a mart could not
check its rates. `dbt_project/macros/semantic_metrics_generated.sql` carries each metric's measure expressions,
written by this module from `_semantic__models.yml`, the one place a KPI is defined; `metric_sql` reads it only in
unit tests (models read the graph). tests/test_semantic_layer.py fails when the committed file is not what this
module writes: after editing a metric, run `python -m contact_warehouse.report.metrics_macro`.
"""

from __future__ import annotations

import json
from pathlib import Path

from contact_warehouse.report.metrics import SEMANTIC_YAML, load_metrics
from contact_warehouse.settings import DBT_PROJECT_DIR

MACRO_PATH = DBT_PROJECT_DIR / "macros" / "semantic_metrics_generated.sql"


def render(semantic_yaml: Path = SEMANTIC_YAML) -> str:
    """The macro file's text: one entry per simple or ratio metric, its numerator's and denominator's SQL."""
    metrics = load_metrics(semantic_yaml)
    entries = []
    for name in sorted(metrics):
        metric = metrics[name]
        denominator = json.dumps(metric.denominator.expr) if metric.denominator else "none"
        entries.append(
            f'        {json.dumps(name)}: {{"numerator": {json.dumps(metric.numerator.expr)}, '
            f'"denominator": {denominator}}},'
        )
    return "\n".join(
        [
            "{#- GENERATED from models/marts/semantic/_semantic__models.yml by",
            "    `python -m contact_warehouse.report.metrics_macro`: do not edit (tests/test_semantic_layer.py checks",
            "    it is current). dbt unit tests have no metrics in their graph; macro metric_sql reads this there. -#}",
            "{% macro semantic_metrics_generated() -%}",
            "    {{ return({",
            *entries,
            "    }) }}",
            "{%- endmacro %}",
            "",
        ]
    )


def write(path: Path = MACRO_PATH) -> Path:
    path.write_text(render())
    return path


if __name__ == "__main__":
    print(write())
