"""The marts agree with an independent reference implementation of every cockpit KPI (tests/reference/README.md).

Two generated months are built: the session's shared pipeline run (the bundled sample, seeds/: seed 42, 1500
customers, 28 days, built by `contact-warehouse run`) and a smaller one (seed 101, 600 customers, 28 days, loader +
dbt). For each, the reference reads the landing folder's raw files and recomputes every figure; each test compares
one figure on one slice group (the overall row, or every slice of one dimension) and names, for each slice that
disagrees, the mart's value, the reference's value and the relative difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import WITHOUT_PYTHON_MODELS, load_landing, run_dbt
from tests.reference.compare import FIGURES, compare
from tests.reference.exports import read_exports
from tests.reference.hierarchy import build

SMALL_CUSTOMERS, SMALL_DAYS, SMALL_SEED = 600, 28, 101
DATASETS = ("seed42", "seed101")


@pytest.fixture(scope="module")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A second, smaller generated month, loaded and built with dbt (seeds and models, no tests: the comparison,
    not dbt's own tests, is what this module checks)."""
    from contact_warehouse.generator import generate

    root = tmp_path_factory.mktemp("reference_small")
    landing, db = root / "landing", root / "warehouse" / "warehouse.duckdb"
    generate(landing, customers=SMALL_CUSTOMERS, days=SMALL_DAYS, seed=SMALL_SEED)
    db.parent.mkdir()
    load_landing(db, landing)
    # Seeds and SQL models in one dbt invocation (one start-up); the Python models compute nothing the reference
    # compares (predictions, staffing forecast), so they and what reads them are left out.
    run_dbt(["build", "--resource-type", "seed", "--resource-type", "model", "--exclude", *WITHOUT_PYTHON_MODELS], db)
    return landing, db


@pytest.fixture(scope="module")
def comparisons(request: pytest.FixtureRequest) -> Callable[[str], pd.DataFrame]:
    """The comparison table of a dataset, computed once per module (the builds are requested lazily)."""
    cache: dict[str, pd.DataFrame] = {}

    def get(dataset: str) -> pd.DataFrame:
        if dataset not in cache:
            if dataset == "seed42":
                run = request.getfixturevalue("pipeline_run")
                landing, db = run.landing, run.db
            else:
                landing, db = request.getfixturevalue("small_build")
            cache[dataset] = compare(landing, db, build(read_exports(landing)))
        return cache[dataset]

    return get


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    return f"{value:.6g}"


# Known disagreements, each still to explain (stop note): the case runs and reports, without failing the suite.
# The help desk's business minutes disagreed on 3 December 2026 (a duration with no opening minute counted its
# calendar minutes in the mart): fixed in the business_seconds macro the same day, none left.
KNOWN_DISAGREEMENTS: dict[str, str] = {}
CASES = [
    pytest.param(
        dataset,
        figure.name,
        group,
        id=f"{dataset}-{figure.name}-{group}",
        marks=[pytest.mark.xfail(reason=KNOWN_DISAGREEMENTS[key], strict=False)] if key in KNOWN_DISAGREEMENTS else [],
    )
    for dataset in DATASETS
    for figure in FIGURES
    for group in figure.groups
    for key in [f"{dataset}-{figure.name}-{group}"]
]


@pytest.mark.parametrize(("dataset", "figure", "group"), CASES)
def test_mart_agrees_with_reference(comparisons, dataset: str, figure: str, group: str) -> None:
    table = comparisons(dataset)
    rows = table[(table["figure"] == figure) & (table["dimension"] == group)]
    assert len(rows), f"{figure} [{group}]: no slice on either side ({dataset})"
    assert rows["ref_num"].notna().any(), f"{figure} [{group}]: the reference computed nothing ({dataset})"
    wrong = rows[~rows["agrees"]]
    lines = [
        f"{figure} on {row.slice} ({dataset}): mart {_fmt(row.mart)} (num {_fmt(row.mart_num)} / den "
        f"{_fmt(row.mart_den)}), reference {_fmt(row.reference)} (num {_fmt(row.ref_num)} / den {_fmt(row.ref_den)}), "
        f"relative difference {'n/a' if row.rel_diff is None or math.isnan(row.rel_diff) else f'{row.rel_diff:+.2%}'}"
        for row in wrong.itertuples(index=False)
    ]
    if lines:
        pytest.fail(f"{len(lines)} of {len(rows)} slices disagree:\n" + "\n".join(lines), pytrace=False)
