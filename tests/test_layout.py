"""The layout: Dagster definitions in ``orchestration/`` over Dagster-free libraries in ``contact_warehouse/``
(DECISIONS.md, "The layout"). Read from the source with ``ast``, so an import inside a function counts too."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = "contact_warehouse"
PACKAGES = (LIBRARY, "orchestration")
MAX_LINES = 500

# Modules of orchestration/ over MAX_LINES today; the list may only shrink (none left): an entry that no longer
# applies fails the test until it is removed.
OVER_MAX_LINES_TODAY: set[str] = set()

# Library modules that import orchestration/ modules: none (every library lives in contact_warehouse/). The set may
# only shrink; it is kept so that the test reads the same way as the two above.
LIBRARY_IMPORTS_OF_ORCHESTRATION_TODAY: set[tuple[str, str]] = set()

# Import cycles among project modules today, each as its sorted modules; may only shrink (none left).
CYCLES_TODAY: set[tuple[str, ...]] = set()


@cache
def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str) -> set[str]:
    """Every module ``module`` imports, at any depth of its code, with relative imports resolved. For ``from
    package import name`` the submodule ``package.name`` when it is one, else ``package``."""
    path = project_modules()[module]
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                names.add(candidate if candidate in project_modules() else source)
    return names


def project_imports(module: str) -> set[str]:
    """The project modules ``module`` imports (a name inside a module counts as that module)."""
    out = set()
    for name in imported_names(module):
        parts = name.split(".")
        while parts and ".".join(parts) not in project_modules():
            parts.pop()
        if parts and ".".join(parts) != module:
            out.add(".".join(parts))
    return out


def import_cycles() -> set[tuple[str, ...]]:
    """Strongly connected components of more than one module in the project's import graph (Tarjan)."""
    graph = {m: sorted(project_imports(m)) for m in project_modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.add(tuple(sorted(component)))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def _is_dagster(name: str) -> bool:
    top = name.split(".")[0]
    return top == "dagster" or top.startswith("dagster_")


def test_the_import_reader_sees_lazy_relative_and_from_imports():
    # The checks below are only as good as this reader: it must see what the code really imports.
    assert "dagster" in imported_names("orchestration.definitions")
    assert dagster_path("orchestration.cli") is not None  # its commands import dagster inside functions
    assert "contact_warehouse.generator.cli" in imported_names("orchestration.cli")  # inside a function
    assert "contact_warehouse.generator.catalog" in project_imports("contact_warehouse.generator.core")  # from .
    assert "contact_warehouse.generator.core" in project_imports("contact_warehouse.generator")  # __init__
    assert "contact_warehouse.generator.texts" in project_imports("contact_warehouse.generator.channels.chat")  # ..


def dagster_path(module: str) -> list[str] | None:
    """The shortest chain of project imports from ``module`` to a Dagster import, if there is one."""
    seen, frontier = {module: [module]}, [module]
    while frontier:
        current = frontier.pop(0)
        for name in sorted(imported_names(current)):
            if _is_dagster(name):
                return [*seen[current], name]
        for nxt in sorted(project_imports(current)):
            if nxt not in seen:
                seen[nxt] = [*seen[current], nxt]
                frontier.append(nxt)
    return None


def assert_only_shrinks(found: set, today: set, new_message: str, gone_message: str) -> None:
    """``found`` may lose entries of ``today`` (each must then leave the list) but gain none."""
    new, gone = found - today, today - found
    assert not new, f"{new_message}: {sorted(new)}"
    assert not gone, f"{gone_message}: {sorted(gone)}"


def test_no_library_module_imports_dagster_even_through_project_modules():
    # Through project modules too: a library importing a Dagster module of orchestration/ imports Dagster.
    paths = [dagster_path(m) for m in project_modules() if m.split(".")[0] == LIBRARY]
    problems = sorted(" -> ".join(path) for path in paths if path)
    assert not problems, "contact_warehouse/ must not import Dagster:\n" + "\n".join(problems)


def test_library_imports_of_orchestration_only_shrink():
    found = {
        (module, imported)
        for module in project_modules()
        if module.split(".")[0] == LIBRARY
        for imported in project_imports(module)
        if imported.split(".")[0] == "orchestration"
    }
    assert_only_shrinks(
        found,
        LIBRARY_IMPORTS_OF_ORCHESTRATION_TODAY,
        "contact_warehouse/ depends on the Dagster layer; move what it needs into the library",
        "no longer imported: remove from LIBRARY_IMPORTS_OF_ORCHESTRATION_TODAY",
    )


def test_no_import_cycle_among_project_modules():
    assert_only_shrinks(import_cycles(), CYCLES_TODAY, "import cycles", "cycle resolved: remove it from CYCLES_TODAY")


def test_no_module_over_500_lines():
    over = set()
    for path in project_modules().values():
        with path.open() as handle:
            if sum(1 for _ in handle) > MAX_LINES:
                over.add(path.relative_to(ROOT).as_posix())
    library = {p for p in over if p.startswith(f"{LIBRARY}/")}
    assert not library, f"split these library modules (at most {MAX_LINES} lines): {sorted(library)}"
    assert_only_shrinks(
        over - library,
        OVER_MAX_LINES_TODAY,
        f"modules over {MAX_LINES} lines",
        f"no longer over {MAX_LINES} lines (or moved): remove from OVER_MAX_LINES_TODAY",
    )


# orchestration/ is thin: a definition there wires a library into Dagster. The CLI is exempt (its parser is a long
# declaration, its commands call libraries). Dagster-free code over a few lines is library logic in the wrong place.
THIN_EXEMPT = {"orchestration.cli"}
MAX_DEFINITION_LINES = 40
MAX_DAGSTER_FREE_LINES = 15


def _dagster_names(tree: ast.Module) -> set[str]:
    """The names a module binds to Dagster imports (``dg``, ``get_asset_key_for_model``, ...)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names if _is_dagster(alias.name)}
        elif isinstance(node, ast.ImportFrom) and _is_dagster(node.module or ""):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def test_orchestration_definitions_are_thin() -> None:
    problems = []
    for module, path in project_modules().items():
        if module.split(".")[0] != "orchestration" or module in THIN_EXEMPT:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        dagster = _dagster_names(tree)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.ClassDef):
                continue
            lines = node.end_lineno - node.lineno + 1
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            used |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
            if lines > MAX_DEFINITION_LINES:
                problems.append(f"{module}.{node.name}: {lines} lines (at most {MAX_DEFINITION_LINES})")
            elif not used & dagster and lines > MAX_DAGSTER_FREE_LINES:
                problems.append(
                    f"{module}.{node.name}: {lines} lines without Dagster (a library's, at most "
                    f"{MAX_DAGSTER_FREE_LINES} here)"
                )
    assert not problems, "move the logic into contact_warehouse/:\n" + "\n".join(problems)
