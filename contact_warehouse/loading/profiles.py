"""Mapping profiles: load a tool's own export by describing how it differs from the canonical exports.

A profile is one YAML file in ``mapping_profiles/`` (or ``CONTACT_WAREHOUSE_PROFILES``); its file stem is its
name. It reads every file matching ``file_patterns`` in the landing subfolder ``folder`` and converts each into
the canonical exports it targets (docs/domain.md section 1), which the loader then validates and loads like any
other file. The format (version 2; version 1 files load unchanged) is documented with one worked example per
feature in docs/mapping_profiles.md. This module reads and validates profiles (YAML, no pandas): first the
keys, against the schema of ``profile_schema.py``, then what the values mean; every error names the file, the
line and the key. ``conversion.py`` applies a profile to a file.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .profile_model import (
    ChildMapping,
    ColumnSpec,
    Condition,
    MappingProfile,
    RejectRule,
    RowVariant,
    TargetMapping,
    Test,
)
from .profile_schema import check_schema, line_of, read_yaml, split_where
from .sources import EXPORTS_BY_NAME, Column, RawTable

__all__ = [
    "ChildMapping",
    "ColumnSpec",
    "Condition",
    "MappingProfile",
    "ProfileError",
    "RejectRule",
    "RowVariant",
    "TargetMapping",
    "Test",
    "discover_profiles",
    "load_profile",
]

SOURCE_KEYS = ("from", "const", "template", "after", "cases")
MODIFIER_KEYS = (
    "plus", "unit", "transform", "map", "format", "timezone", "default", "when", "unless", "rollover_after",
    "aggregate",
)  # fmt: skip
AGGREGATES = ("first", "last", "min", "max")
INPUT_FORMATS = ("csv", "json", "jsonl")
DEFAULT_PATTERNS = {"csv": ["*.csv"], "json": ["*.json"], "jsonl": ["*.jsonl", "*.ndjson"]}
UNIT_SECONDS = {"seconds": 1.0, "milliseconds": 0.001, "minutes": 60.0}
# The value transforms conversion.py implements (its TRANSFORMS has exactly these keys).
TRANSFORM_NAMES = ("duration", "lower", "strip", "upper")
CSV_EXPORTS = tuple(name for name, export in EXPORTS_BY_NAME.items() if export.format == "csv")
# Columns of a JSON export's nested list that the loader fills from the parent record and the position.
# Every nested list's table starts with its record's key and the element's position (sources.py).
CHILD_KEYS = {
    table.name: tuple(table.column_names[:2])
    for export in EXPORTS_BY_NAME.values()
    if export.format != "csv"
    for table in export.tables[1:]
}

_PLACEHOLDER_RE = re.compile(r"\{([^{}]+)\}")


class ProfileError(ValueError):
    """A mapping profile file is invalid; the message names the file, the line and the offending key."""


def _text(value: Any) -> str:
    """A YAML scalar as the text written to the canonical CSV (booleans in the loader's spelling)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Parser:
    """Validates what one profile file's values mean; every error names the file, the line and the key path."""

    def __init__(self, path: Path, lines: dict | None = None) -> None:
        self.path = path
        self.lines = lines or {}

    def fail(self, where: str, problem: str) -> ProfileError:
        line = line_of(self.lines, split_where(where))
        at = f", line {line}" if line else ""
        return ProfileError(f"{self.path}{at}: {where}: {problem}")

    def mapping(self, raw: Any, where: str, allowed: Iterable[str], what: str = "key", of: str = "") -> dict:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping, got {type(raw).__name__}")
        unknown = [str(k) for k in raw if k not in allowed]
        if unknown:
            bad = unknown[0]
            raise self.fail(f"{where}.{bad}", f"unknown {what} '{bad}'{of} (known: {', '.join(allowed)})")
        return raw

    def names(self, raw: Any, where: str) -> tuple[str, ...]:
        items = raw if isinstance(raw, list) else [raw]
        if not items or not all(isinstance(i, str) and i for i in items):
            raise self.fail(where, "expected a column name or a non-empty list of column names")
        return tuple(items)

    def condition(self, raw: Any, where: str) -> Condition:
        if not isinstance(raw, dict) or not raw:
            raise self.fail(where, "expected a mapping of foreign column -> values or tests (in, pattern, min, ...)")
        return {str(col): self.test(tests, f"{where}.{col}") for col, tests in raw.items()}

    def test(self, raw: Any, where: str) -> Test:
        if not isinstance(raw, dict):
            raw = {"in": raw if isinstance(raw, list) else [raw]}
        values = frozenset(_text(v).strip() for v in raw["in"]) if "in" in raw else None
        pattern = raw.get("pattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise self.fail(f"{where}.pattern", f"not a regular expression: {exc}") from None
        bounds = {}
        for key in ("min", "max", "below", "above"):
            if raw.get(key) is not None:
                try:
                    bounds[key] = float(raw[key])
                except (TypeError, ValueError):
                    raise self.fail(f"{where}.{key}", f"expected a number, got {raw[key]!r}") from None
        same_as = raw.get("same_as")
        if same_as is not None and (not isinstance(same_as, str) or not same_as):
            raise self.fail(f"{where}.same_as", "expected the name of a foreign column")
        if values is None and pattern is None and not bounds and same_as is None:
            raise self.fail(
                where, "expected values or at least one test (in, pattern, min, max, below, above, same_as)"
            )
        return Test(values=values, pattern=None if pattern is None else str(pattern), same_as=same_as, **bounds)

    def timezone(self, raw: Any, where: str) -> str:
        try:
            ZoneInfo(str(raw))
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(where, f"unknown timezone {raw!r} (use an IANA name such as Europe/Paris)") from None
        return str(raw)

    def profile(self, raw: Any) -> MappingProfile:
        if "targets" not in raw:
            raise self.fail("targets", "missing: name at least one canonical export to write")
        name = self.path.stem
        folder = str(raw.get("folder", name))
        if folder in EXPORTS_BY_NAME:
            raise self.fail("folder", f"'{folder}' is a canonical export's folder; it would be loaded twice")
        header_row = str(raw.get("header_row", 1))
        if not header_row.isdigit() or int(header_row) < 1:
            raise self.fail("header_row", f"expected a line number >= 1, got {header_row!r}")
        encoding = str(raw.get("encoding", "utf-8-sig"))
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise self.fail("encoding", f"unknown encoding {encoding!r}") from None
        delimiter = str(raw.get("delimiter", ","))
        if len(delimiter) != 1:
            raise self.fail("delimiter", f"expected one character, got {delimiter!r}")
        reject = [self.reject(rule, f"reject[{i}]") for i, rule in enumerate(raw.get("reject") or [])]
        input_format = str(raw.get("format", "csv"))
        if input_format not in INPUT_FORMATS:
            raise self.fail("format", f"unknown input format {input_format!r} (known: {', '.join(INPUT_FORMATS)})")
        if raw.get("records") and input_format == "csv":
            raise self.fail("records", "only for JSON input (format: json or jsonl)")
        records = self.names(raw["records"], "records") if raw.get("records") else ()
        if input_format == "json" and len({one.split(".")[0] for one in records}) > 1:
            raise self.fail("records", "the paths of a JSON document must start at the same list of records")
        targets = self.mapping(raw["targets"], "targets", list(EXPORTS_BY_NAME), "target export")
        if not targets:
            raise self.fail("targets", "name at least one canonical export to write")
        return MappingProfile(
            name=name,
            path=self.path,
            mappings={export: self.target(export, spec) for export, spec in targets.items()},
            folder=folder,
            file_patterns=list(self.names(raw.get("file_patterns", DEFAULT_PATTERNS[input_format]), "file_patterns")),
            delimiter=delimiter,
            encoding=encoding,
            header_row=int(header_row),
            timezone=self.timezone(raw.get("timezone", "UTC"), "timezone"),
            description=_text(raw.get("description")),
            version=int(raw.get("version", 1)),
            format=input_format,
            records=records[0] if len(records) == 1 else records,
            reject=reject,
        )

    def reject(self, raw: dict, where: str) -> RejectRule:
        if "when" not in raw and "unless" not in raw:
            raise self.fail(where, "a reject rule needs when or unless (which rows it rejects)")
        return RejectRule(
            field=str(raw["field"]),
            reason=str(raw["reason"]),
            when=self.condition(raw["when"], f"{where}.when") if "when" in raw else {},
            unless=self.condition(raw["unless"], f"{where}.unless") if "unless" in raw else {},
        )

    def target(self, export: str, raw: Any) -> TargetMapping:
        where = f"targets.{export}"
        raw = raw or {}
        tables = EXPORTS_BY_NAME[export].tables
        if raw.get("children") and len(tables) == 1:
            raise self.fail(f"{where}.children", f"'{export}' is a CSV export: it has no nested lists")
        children = []
        for name, child in (raw.get("children") or {}).items():
            table = next((t for t in tables[1:] if t.name == name), None)
            if table is None:
                known = ", ".join(t.name for t in tables[1:])
                raise self.fail(f"{where}.children.{name}", f"unknown nested list '{name}' (known: {known})")
            children.append(ChildMapping(table, self.variants(table, child or {}, f"{where}.children.{name}")))
        return TargetMapping(
            export,
            self.variants(tables[0], raw, where),
            when=self.condition(raw["when"], f"{where}.when") if "when" in raw else {},
            unless=self.condition(raw["unless"], f"{where}.unless") if "unless" in raw else {},
            group_by=self.names(raw["group_by"], f"{where}.group_by") if raw.get("group_by") else (),
            children=children,
        )

    def variants(self, table: RawTable, raw: dict, where: str) -> list[RowVariant]:
        """The rows a source row writes into ``table``: one, or one per entry of ``rows`` whose condition holds
        (each entry's columns override the shared ``columns``)."""
        shared = raw.get("columns") or {}
        if not raw.get("rows"):
            return [RowVariant(self.columns(table, shared, f"{where}.columns"))]
        variants = []
        for i, entry in enumerate(raw["rows"]):
            at = f"{where}.rows[{i}]"
            columns = self.columns(table, {**shared, **(entry.get("columns") or {})}, f"{at}.columns")
            when = self.condition(entry["when"], f"{at}.when") if "when" in entry else {}
            unless = self.condition(entry["unless"], f"{at}.unless") if "unless" in entry else {}
            variants.append(RowVariant(columns, when, unless))
        return variants

    def columns(self, table: RawTable, raw: Any, where: str) -> dict[str, ColumnSpec]:
        # A nested list's key and position come from its parent record and its place in the list.
        filled = CHILD_KEYS.get(table.name, ())
        allowed = [c for c in table.column_names if c not in filled]
        columns_raw = self.mapping(raw, where, allowed, "canonical column", f" of table '{table.name}'")
        by_name = {c.name: c for c in table.columns}
        columns = {name: self.spec(spec, f"{where}.{name}", by_name[name]) for name, spec in columns_raw.items()}
        missing = [c.name for c in table.columns if c.required and c.name not in columns and c.name not in filled]
        if missing:
            raise self.fail(where, f"required canonical column(s) not mapped: {', '.join(missing)}")
        self.check_after(where.removesuffix(".columns"), columns, by_name)
        return columns

    def check_after(self, where: str, columns: dict[str, ColumnSpec], by_name: dict[str, Column]) -> None:
        """``after`` must name a mapped timestamp column of the same target, without cycles."""
        for name, spec in columns.items():
            for ref in spec.after_refs():
                if ref not in columns or by_name[ref].type != "timestamp":
                    raise self.fail(f"{where}.columns.{name}.after", f"'{ref}' is not a mapped timestamp column")
        state: dict[str, str] = {}

        def visit(name: str, chain: list[str]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "active":
                raise self.fail(f"{where}.columns.{name}.after", f"cycle: {' -> '.join([*chain, name])}")
            state[name] = "active"
            for ref in columns[name].after_refs():
                visit(ref, [*chain, name])
            state[name] = "done"

        for name in columns:
            visit(name, [])

    def spec(self, raw: Any, where: str, column: Column) -> ColumnSpec:
        if isinstance(raw, str):
            raw = {"from": raw}
        sources = [k for k in SOURCE_KEYS if k in raw]
        if len(sources) != 1:
            raise self.fail(where, f"needs exactly one of {', '.join(SOURCE_KEYS)}, got {sources or 'none'}")
        source = sources[0]
        spec = ColumnSpec(source=source)
        self.source(spec, raw, where, column)
        self.modifiers(spec, raw, where, column)
        return spec

    def source(self, spec: ColumnSpec, raw: dict, where: str, column: Column) -> None:
        value = raw[spec.source]
        if spec.source == "from":
            spec.columns = self.names(value, f"{where}.from")
        elif spec.source == "const":
            spec.const = _text(value)
        elif spec.source == "template":
            spec.template = self.template(value, f"{where}.template")
        elif spec.source == "after":
            if column.type != "timestamp":
                problem = f"only timestamp columns can be derived; {column.name} is {column.type}"
                raise self.fail(f"{where}.after", problem)
            spec.after = str(value)
        elif not isinstance(value, list) or not value:
            raise self.fail(f"{where}.cases", "expected a non-empty list of column specs")
        else:
            spec.cases = tuple(self.spec(item, f"{where}.cases[{i}]", column) for i, item in enumerate(value))
        if "plus" in raw:
            if spec.source != "after":
                raise self.fail(f"{where}.plus", "only allowed with after")
            spec.plus = self.names(raw["plus"], f"{where}.plus")

    def template(self, raw: Any, where: str) -> tuple[tuple[bool, str], ...]:
        text = _text(raw)
        parts: list[tuple[bool, str]] = []
        pos = 0
        for match in _PLACEHOLDER_RE.finditer(text):
            parts += [(False, text[pos : match.start()]), (True, match.group(1))]
            pos = match.end()
        parts.append((False, text[pos:]))
        if not any(is_col for is_col, _ in parts):
            raise self.fail(where, "a template needs at least one {foreign column} placeholder (use const)")
        return tuple(p for p in parts if p[0] or p[1])

    def modifiers(self, spec: ColumnSpec, raw: dict, where: str, column: Column) -> None:
        if "transform" in raw:
            spec.transforms = self.names(raw["transform"], f"{where}.transform")
            unknown = [t for t in spec.transforms if t not in TRANSFORM_NAMES]
            if unknown:
                raise self.fail(
                    f"{where}.transform", f"unknown transform '{unknown[0]}' (known: {', '.join(TRANSFORM_NAMES)})"
                )
        if "map" in raw:
            if not isinstance(raw["map"], dict) or not raw["map"]:
                raise self.fail(f"{where}.map", "expected a mapping of vendor value -> canonical value")
            spec.value_map = {_text(k).strip(): _text(v) for k, v in raw["map"].items()}
        for key in ("format", "timezone", "rollover_after"):
            if key in raw and column.type != "timestamp":
                raise self.fail(f"{where}.{key}", f"only for timestamp columns; {column.name} is {column.type}")
        if "format" in raw:
            spec.formats = self.names(raw["format"], f"{where}.format")
        rollover = raw.get("rollover_after") or ""
        if isinstance(rollover, dict):
            spec.rollover_after = self.spec(rollover, f"{where}.rollover_after", column)
        else:
            spec.rollover_after = str(rollover)
        aggregate = raw.get("aggregate", "first")
        spec.aggregate = tuple(_text(v) for v in aggregate) if isinstance(aggregate, list) else str(aggregate)
        if isinstance(spec.aggregate, str) and spec.aggregate not in AGGREGATES:
            known = ", ".join(AGGREGATES)
            raise self.fail(f"{where}.aggregate", f"unknown aggregate {spec.aggregate!r} (known: {known})")
        spec.timezone = self.timezone(raw["timezone"], f"{where}.timezone") if "timezone" in raw else None
        spec.unit = str(raw.get("unit", "seconds"))
        if spec.unit not in UNIT_SECONDS:
            raise self.fail(f"{where}.unit", f"unknown unit {spec.unit!r} (known: {', '.join(UNIT_SECONDS)})")
        if "default" in raw:
            default = raw["default"]
            is_spec = isinstance(default, dict)
            spec.default = self.spec(default, f"{where}.default", column) if is_spec else _text(default)
            if isinstance(spec.default, ColumnSpec) and spec.default.source == "const" and len(default) == 1:
                spec.default = spec.default.const  # {const: x} as a default is the constant x
        spec.when = self.condition(raw["when"], f"{where}.when") if "when" in raw else {}
        spec.unless = self.condition(raw["unless"], f"{where}.unless") if "unless" in raw else {}


def load_profile(path: Path) -> MappingProfile:
    """Read and validate one profile file; raises ProfileError naming the file, the line and the bad key."""
    path = Path(path)
    try:
        raw, lines = read_yaml(path.read_text(encoding="utf-8"))  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        check_schema(path, raw, lines)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    return _Parser(path, lines).profile(raw)


# The profiles parsed in this process, by path, with the file's status when parsed. A nightly run asks for the profiles
# twice per export (the new files, then the load): 20 parses of the same 11 files, about 1 s of CPU in the YAML parser
# (DECISIONS.md "Where the nightly run's fixed cost goes"). A profile is read-only once parsed.
_PARSED: dict[Path, tuple[tuple[int, int, int, int], MappingProfile]] = {}


def _load_profile_once(path: Path) -> MappingProfile:
    """``load_profile``, parsed again only when the file's status (size, modification and change time, inode) differs
    from the last parse in this process; an invalid profile raises every time."""
    status = path.stat()
    key = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    known = _PARSED.get(path.resolve())
    if known is not None and known[0] == key:
        return known[1]
    profile = load_profile(path)
    _PARSED[path.resolve()] = (key, profile)
    return profile


def discover_profiles(profiles_dir: Path) -> list[MappingProfile]:
    """Every ``*.yml``/``*.yaml`` profile in the folder, by name; an invalid one raises ProfileError."""
    profiles_dir = Path(profiles_dir)
    if not profiles_dir.is_dir():
        return []
    paths = sorted([*profiles_dir.glob("*.yml"), *profiles_dir.glob("*.yaml")], key=lambda p: (p.stem, p.suffix))
    profiles = [_load_profile_once(p) for p in paths]
    seen: dict[str, Path] = {}
    for profile in profiles:
        if profile.name in seen:
            raise ProfileError(f"{profile.path}: profile name '{profile.name}' is also used by {seen[profile.name]}")
        seen[profile.name] = profile.path
    return profiles
