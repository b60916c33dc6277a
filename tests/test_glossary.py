"""The KPI glossary is generated from the dbt docs and the committed copy is current."""

from __future__ import annotations

import json
from pathlib import Path

from contact_warehouse.report.glossary import load_entries, render_markdown
from contact_warehouse.settings import GLOSSARY_PATH


def test_entries_come_from_column_meta(tmp_path: Path) -> None:
    manifest = {
        "nodes": {
            "model.x.mart_a": {
                "resource_type": "model",
                "name": "mart_a",
                "columns": {
                    "asa": {
                        "name": "asa",
                        "description": "Mean of answered_at - queued_at.",
                        "meta": {"kpi": "Average speed of answer", "denominator": "answered calls"},
                    },
                    "calls": {"name": "calls", "description": "Calls.", "meta": {}},
                },
            },
            "test.x.t": {"resource_type": "test", "name": "t", "columns": {}},
        }
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    entries = load_entries(path)
    assert [(e.kpi, e.denominator, e.model, e.column) for e in entries] == [
        ("Average speed of answer", "answered calls", "mart_a", "asa")
    ]
    assert "| Average speed of answer | Mean of answered_at - queued_at. | answered calls |" in render_markdown(entries)


def test_committed_glossary_matches_the_dbt_docs() -> None:
    from orchestration.project import MANIFEST_PATH, prepare_manifest

    prepare_manifest(force=True)
    entries = load_entries(MANIFEST_PATH)
    kpis = {e.kpi for e in entries}
    for expected in ("First-contact resolution", "Self-service failure", "Solution effectiveness"):
        assert expected in kpis
    assert GLOSSARY_PATH.read_text() == render_markdown(entries), "run `contact-warehouse glossary`"
