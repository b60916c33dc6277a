"""dbt tests as one asset check per dbt model (``dbt_tests``), instead of dagster-dbt's one check per test.

Each check result costs a run two Dagster events handled in the thread that reads dbt's output (about 10 ms each,
DECISIONS.md "Dagster's cost per dbt test"); with ~970 tests that was ~1,940 events a night. Here a model's tests
are one check: the translator declares one spec per model that has tests, and ``ModelTestResults`` takes the test
results out of dbt's event stream (every other event goes to dagster-dbt as before) and yields one result per
model when the build ends (contact_warehouse/operations/dbt_tests.py sums them up: every test's name, status and
failures in the metadata). The check is blocking: a test that fails (``fail``/``error``, severity ERROR) fails the
dbt step and so skips publication; a test that only warns gives a WARN result, which never blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtProject
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_UNIQUE_ID_METADATA_KEY,
    get_asset_check_key_for_test,
    get_manifest_and_translator_from_dbt_assets,
    get_node,
)

from contact_warehouse.operations.dbt_tests import (
    DBT_TESTS_CHECK,
    RUN_KEY,
    TESTS_KEY,
    DbtTestResult,
    ModelTests,
    dbt_test_result,
    summarize,
)

DBT_TESTS_METADATA_KEY = "dbt_tests"  # the check spec's list of its tests' names (shown in the UI)


class ModelTestsTranslator(DagsterDbtTranslator):
    """One ``dbt_tests`` check per dbt model (or seed) with tests, over all of them."""

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        if not self.settings.enable_asset_checks:
            return None
        key = get_asset_check_key_for_test(manifest, self, unique_id, project)
        if key is None or key.asset_key != asset_spec.key:
            return None
        tests = tests_by_check(self, manifest, project)[dg.AssetCheckKey(asset_spec.key, DBT_TESTS_CHECK)]
        parents = {
            self.get_asset_spec(manifest, parent, project).key
            for test in tests
            for parent in manifest["parent_map"].get(test, [])
        }
        return dg.AssetCheckSpec(
            name=DBT_TESTS_CHECK,
            asset=asset_spec.key,
            description=f"The model's {len(tests)} dbt tests (each one's name, status and failures in the metadata).",
            additional_deps=parents - {asset_spec.key},
            # dagster-dbt selects a check's dbt test by this id when the check runs without its model; the check's
            # other tests are added to that selection by ``subset_test_selection``.
            metadata={
                DAGSTER_DBT_UNIQUE_ID_METADATA_KEY: tests[0],
                DBT_TESTS_METADATA_KEY: [get_node(manifest, test)["name"] for test in tests],
            },
            blocking=True,
        )


_TESTS_BY_CHECK: dict[tuple[int, str], dict[dg.AssetCheckKey, list[str]]] = {}


def tests_by_check(
    translator: DagsterDbtTranslator, manifest: Mapping[str, Any], project: DbtProject | None
) -> dict[dg.AssetCheckKey, list[str]]:
    """Every dbt test's unique id under the ``dbt_tests`` check of the asset dagster-dbt attaches it to (sorted)."""
    memo = (id(translator), str(manifest.get("metadata", {}).get("invocation_id")))
    if memo not in _TESTS_BY_CHECK:
        grouped: dict[dg.AssetCheckKey, list[str]] = {}
        for unique_id in sorted(manifest["nodes"]):
            # A disabled model's tests stay in the nodes, disabled, while the model moves to "disabled" (off DuckDB
            # the dbt Python models are disabled): their check key would look up a model that is not there.
            if manifest["nodes"][unique_id].get("config", {}).get("enabled") is False:
                continue
            key = get_asset_check_key_for_test(manifest, translator, unique_id, project)
            if key is not None:
                grouped.setdefault(dg.AssetCheckKey(key.asset_key, DBT_TESTS_CHECK), []).append(unique_id)
        _TESTS_BY_CHECK[memo] = grouped
    return _TESTS_BY_CHECK[memo]


def subset_test_selection(context: dg.AssetExecutionContext) -> list[str]:
    """dbt ``--select`` arguments for the tests of ``dbt_tests`` checks that run without all of their model's checks
    or without their model (a subset from the UI): dagster-dbt then selects tests by name, and it knows one test per
    check. Empty when every selected check's model is selected with all its checks (dbt's indirect selection runs
    their tests), as on every nightly run."""
    assets_def = context.assets_def
    selected_assets = context.selected_asset_keys
    selected = set(context.selected_asset_check_keys)
    all_checks = {spec.key for spec in assets_def.node_check_specs_by_output_name.values()}
    excluded_on_selected = any(k.asset_key in selected_assets for k in all_checks - selected)
    without_asset = any(k.asset_key not in selected_assets for k in selected)
    if not (excluded_on_selected or without_asset):
        return []
    manifest, translator, project = get_manifest_and_translator_from_dbt_assets([assets_def])
    groups = tests_by_check(translator, manifest, project)
    names = [".".join(get_node(manifest, test)["fqn"]) for key in sorted(selected) for test in groups.get(key, [])]
    return ["--select", " ".join(names)] if names else []


class ModelTestResults:
    """Collects the dbt test results of the checks a run selected, over every dbt invocation of the step, for one
    ``dbt_tests`` result per model at the end (a model's tests can run in two invocations off DuckDB)."""

    def __init__(self, context: dg.AssetExecutionContext) -> None:
        self.context = context
        self.selected = set(context.selected_asset_check_keys)
        self.results: dict[dg.AssetCheckKey, list[DbtTestResult]] = {}

    def stream(self, invocation: DbtCliInvocation) -> Iterator:
        """dagster-dbt's events of one invocation, without those of the selected checks' tests (kept here)."""
        groups = tests_by_check(invocation.dagster_dbt_translator, invocation.manifest, invocation.project)
        owner = {test: key for key, tests in groups.items() if key in self.selected for test in tests}
        for event in invocation.stream_raw_events():
            test = dbt_test_result(event.raw_event) if event.is_result_event else None
            if test is not None and test.unique_id in owner:
                self.results.setdefault(owner[test.unique_id], []).append(test)
                continue
            # A test of an unselected check (run by dbt's indirect selection) stays dagster-dbt's observation.
            yield from event.to_default_asset_events(
                manifest=invocation.manifest,
                dagster_dbt_translator=invocation.dagster_dbt_translator,
                context=self.context,
                target_path=invocation.target_path,
                project=invocation.project,
            )

    def check_results(self) -> Iterator[dg.AssetCheckResult]:
        """One result per model whose tests ran (not all skipped); then forgets them."""
        results, self.results = self.results, {}
        for key in sorted(results, key=lambda k: k.asset_key.to_user_string()):
            summary = summarize(results[key])
            if summary is not None:
                yield model_check_result(key, summary)


def model_check_result(key: dg.AssetCheckKey, summary: ModelTests) -> dg.AssetCheckResult:
    metadata = summary.metadata()
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=summary.passed,
        severity=dg.AssetCheckSeverity(summary.severity),
        description=summary.description,
        metadata={
            TESTS_KEY: dg.MetadataValue.json(metadata[TESTS_KEY]),
            RUN_KEY: dg.MetadataValue.int(metadata[RUN_KEY]),
        },
    )
