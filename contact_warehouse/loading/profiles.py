"""Mapping profiles: load a tool's own CSV export by describing how it differs from a canonical export.

A profile is one YAML file in ``mapping_profiles/``; its file stem is its name. It reads every file matching
``file_patterns`` in the landing subfolder ``folder`` and converts each into one canonical CSV per target
export (docs/domain.md section 1), which the loader then validates and loads like any other file.
This module reads and validates profiles (YAML, no pandas); ``conversion.py`` applies them to a file.

YAML schema (every key except ``targets`` is optional)::

    description: free text
    folder: zendesk_talk          # landing subfolder read; default: the profile's name (file stem)
    file_patterns: ["*.csv"]      # glob patterns inside folder; default ["*.csv"]
    delimiter: ","                # default ","
    encoding: utf-8-sig           # default utf-8-sig (plain UTF-8, with or without a byte-order mark)
    header_row: 1                 # physical line of the header; lines above it are skipped; default 1
    timezone: America/New_York    # IANA zone of timestamps written without offset; default UTC
    targets:                      # canonical export -> how to fill its main table
      <export>:                   # a CSV export of sources.py: calls, ivr_events, sms, surveys, ...
        when: {<col>: [values]}   # optional row filter: keep rows whose foreign columns all match
        unless: {<col>: [values]} # optional row filter: drop rows where any listed column matches
        columns:
          <canonical column>: <foreign column>     # shorthand for {from: <foreign column>}
          <canonical column>: <column spec>

A column spec has exactly one source:
    from: <col> | [<col>, ...]    foreign column; several are joined with one space (a date and a time)
    const: <value>                the same value on every row
    template: "{id}-rating"       text with {foreign column} placeholders
    after: <canonical column>     a timestamp of the same target, plus the durations in ``plus``
    cases: [<spec>, ...]          per row, the first spec whose when/unless hold (none: empty)
and optional modifiers, applied in this order:
    transform: <name> | [names]   duration (to whole seconds, rounded), lower, upper, strip
    map: {vendor: ours}           value map on the stripped value; unmapped values pass through unchanged
    format: "%m/%d/%Y %I:%M:%S %p"   strptime format of a timestamp column (values not matching it are
                                  still tried as ISO-8601; default: ISO-8601 only)
    timezone: <IANA zone>         zone of this timestamp column when its values carry no offset
    default: <value> | <spec>     used where the value is '' (a constant, or a spec evaluated there)
    when / unless: {<col>: [values]}  the value is empty on rows where the condition fails
    plus: <col> | [cols]          (with after) durations: seconds (``unit``) or [H:]MM:SS
    unit: seconds | milliseconds | minutes   unit of plain-number durations; default seconds

Timestamps are written in UTC as ``2026-10-05T13:14:03Z``. A derived (``after``) timestamp is empty where
its base or one of its durations is empty; a duration or timestamp that does not parse is written raw.
Values in ``when``/``unless`` lists are compared with the stripped foreign value; ``""`` means empty.
Scalars stay text except ``true``/``false``/``null`` (so ``Y``, ``no``, ``01`` are kept as written).

Example::

    timezone: America/New_York
    targets:
      calls:
        columns:
          call_id: id
          started_at: {from: [call_date, call_time], format: "%m/%d/%Y %I:%M:%S %p"}
          answered_at: {after: started_at, plus: wait_seconds}
          ended_at: {after: answered_at, plus: talk_time}        # talk_time like 0:02:23
          status: {from: outcome, map: {ANSWERED: completed, HUNGUP: abandoned}}
          resolved: {from: solved, map: {Y: true, N: false}}
          direction: {const: inbound}
      surveys:
        unless: {rating: [""]}                                    # one answer per rated call
        columns:
          response_id: {template: "{id}-rating"}
          survey_type: {const: csat}
          ...
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .sources import EXPORTS_BY_NAME, Column, RawTable

SOURCE_KEYS = ("from", "const", "template", "after", "cases")
MODIFIER_KEYS = ("plus", "unit", "transform", "map", "format", "timezone", "default", "when", "unless")
PROFILE_KEYS = ("description", "folder", "file_patterns", "delimiter", "encoding", "header_row", "timezone", "targets")
TARGET_KEYS = ("columns", "when", "unless")
UNIT_SECONDS = {"seconds": 1.0, "milliseconds": 0.001, "minutes": 60.0}
# The value transforms conversion.py implements (its TRANSFORMS has exactly these keys).
TRANSFORM_NAMES = ("duration", "lower", "strip", "upper")
CSV_EXPORTS = tuple(name for name, export in EXPORTS_BY_NAME.items() if export.format == "csv")

_PLACEHOLDER_RE = re.compile(r"\{([^{}]+)\}")


class ProfileError(ValueError):
    """A mapping profile file is invalid; the message names the file and the offending key."""


# ------------------------------------------------------------------------------------------ model


Condition = dict[str, frozenset[str]]


@dataclass
class ColumnSpec:
    """How one canonical column is computed from a foreign row (see the module docstring)."""

    source: str  # one of SOURCE_KEYS
    columns: tuple[str, ...] = ()  # from
    const: str = ""
    template: tuple[tuple[bool, str], ...] = ()  # (is_placeholder, text)
    after: str = ""
    plus: tuple[str, ...] = ()
    cases: tuple[ColumnSpec, ...] = ()
    transforms: tuple[str, ...] = ()
    value_map: dict[str, str] | None = None
    format: str | None = None
    timezone: str | None = None
    unit: str = "seconds"
    default: str | ColumnSpec | None = None
    when: Condition = field(default_factory=dict)
    unless: Condition = field(default_factory=dict)

    def children(self) -> list[ColumnSpec]:
        return [*self.cases, *([self.default] if isinstance(self.default, ColumnSpec) else [])]

    def foreign_columns(self) -> list[str]:
        own = [*self.columns, *(text for is_col, text in self.template if is_col), *self.plus]
        own += [*self.when, *self.unless]
        return own + [c for child in self.children() for c in child.foreign_columns()]

    def after_refs(self) -> list[str]:
        own = [self.after] if self.after else []
        return own + [ref for child in self.children() for ref in child.after_refs()]


@dataclass
class TargetMapping:
    """How one canonical export's main table is filled from a foreign file."""

    export: str
    columns: dict[str, ColumnSpec]
    when: Condition = field(default_factory=dict)
    unless: Condition = field(default_factory=dict)

    @property
    def table(self) -> RawTable:
        return EXPORTS_BY_NAME[self.export].main_table

    def foreign_columns(self) -> list[str]:
        return [*self.when, *self.unless, *(c for spec in self.columns.values() for c in spec.foreign_columns())]


@dataclass
class MappingProfile:
    name: str
    path: Path
    mappings: dict[str, TargetMapping]
    folder: str
    file_patterns: list[str] = field(default_factory=lambda: ["*.csv"])
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    header_row: int = 1
    timezone: str = "UTC"
    description: str = ""

    @property
    def targets(self) -> list[str]:
        """Canonical export names this profile writes, in file order."""
        return list(self.mappings)

    def foreign_columns(self) -> list[str]:
        """Every foreign column the profile reads, once each, in first-use order."""
        return list(dict.fromkeys(c for m in self.mappings.values() for c in m.foreign_columns()))


# ---------------------------------------------------------------------------------------- loading


class _ProfileYamlLoader(yaml.SafeLoader):
    """YAML where only true/false/null are typed: vendor codes like Y, N, no, off, 007 stay text."""

    yaml_implicit_resolvers: dict = {}


_ProfileYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_ProfileYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def _text(value: Any) -> str:
    """A YAML scalar as the text written to the canonical CSV (booleans in the loader's spelling)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Parser:
    """Validates one profile file; every error names the file and the key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> ProfileError:
        return ProfileError(f"{self.path}: {where}: {problem}")

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
            raise self.fail(where, "expected a mapping of foreign column -> value or list of values")
        return {
            str(col): frozenset(_text(v).strip() for v in (vals if isinstance(vals, list) else [vals]))
            for col, vals in raw.items()
        }

    def timezone(self, raw: Any, where: str) -> str:
        try:
            ZoneInfo(str(raw))
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(where, f"unknown timezone {raw!r} (use an IANA name such as Europe/Paris)") from None
        return str(raw)

    def profile(self, raw: Any) -> MappingProfile:
        raw = self.mapping(raw, "profile", PROFILE_KEYS)
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
        json_targets = [t for t in raw["targets"] or {} if t in EXPORTS_BY_NAME and t not in CSV_EXPORTS]
        if json_targets:
            raise self.fail(f"targets.{json_targets[0]}", "a JSON export; profiles can only write CSV exports")
        targets = self.mapping(raw["targets"], "targets", CSV_EXPORTS, "target export")
        if not targets:
            raise self.fail("targets", "name at least one canonical export to write")
        return MappingProfile(
            name=name,
            path=self.path,
            mappings={export: self.target(export, spec) for export, spec in targets.items()},
            folder=folder,
            file_patterns=list(self.names(raw.get("file_patterns", ["*.csv"]), "file_patterns")),
            delimiter=delimiter,
            encoding=encoding,
            header_row=int(header_row),
            timezone=self.timezone(raw.get("timezone", "UTC"), "timezone"),
            description=_text(raw.get("description")),
        )

    def target(self, export: str, raw: Any) -> TargetMapping:
        where = f"targets.{export}"
        raw = self.mapping(raw, where, TARGET_KEYS)
        table = EXPORTS_BY_NAME[export].main_table
        columns_raw = self.mapping(
            raw.get("columns", {}), f"{where}.columns", table.column_names, "canonical column", f" of export '{export}'"
        )
        by_name = {c.name: c for c in table.columns}
        columns = {
            name: self.spec(spec, f"{where}.columns.{name}", by_name[name]) for name, spec in columns_raw.items()
        }
        missing = [c.name for c in table.columns if c.required and c.name not in columns]
        if missing:
            raise self.fail(f"{where}.columns", f"required canonical column(s) not mapped: {', '.join(missing)}")
        self.check_after(where, columns, by_name)
        return TargetMapping(
            export,
            columns,
            when=self.condition(raw["when"], f"{where}.when") if "when" in raw else {},
            unless=self.condition(raw["unless"], f"{where}.unless") if "unless" in raw else {},
        )

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
        raw = self.mapping(raw, where, SOURCE_KEYS + MODIFIER_KEYS)
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
        for key in ("format", "timezone"):
            if key in raw and column.type != "timestamp":
                raise self.fail(f"{where}.{key}", f"only for timestamp columns; {column.name} is {column.type}")
        spec.format = str(raw["format"]) if "format" in raw else None
        spec.timezone = self.timezone(raw["timezone"], f"{where}.timezone") if "timezone" in raw else None
        spec.unit = str(raw.get("unit", "seconds"))
        if spec.unit not in UNIT_SECONDS:
            raise self.fail(f"{where}.unit", f"unknown unit {spec.unit!r} (known: {', '.join(UNIT_SECONDS)})")
        if "default" in raw:
            default = raw["default"]
            is_spec = isinstance(default, dict)
            spec.default = self.spec(default, f"{where}.default", column) if is_spec else _text(default)
        spec.when = self.condition(raw["when"], f"{where}.when") if "when" in raw else {}
        spec.unless = self.condition(raw["unless"], f"{where}.unless") if "unless" in raw else {}


def load_profile(path: Path) -> MappingProfile:
    """Read and validate one profile file; raises ProfileError naming the file and the bad key."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_ProfileYamlLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    return _Parser(path).profile(raw)


def discover_profiles(profiles_dir: Path) -> list[MappingProfile]:
    """Every ``*.yml``/``*.yaml`` profile in the folder, by name; an invalid one raises ProfileError."""
    profiles_dir = Path(profiles_dir)
    if not profiles_dir.is_dir():
        return []
    paths = sorted([*profiles_dir.glob("*.yml"), *profiles_dir.glob("*.yaml")], key=lambda p: (p.stem, p.suffix))
    profiles = [load_profile(p) for p in paths]
    seen: dict[str, Path] = {}
    for profile in profiles:
        if profile.name in seen:
            raise ProfileError(f"{profile.path}: profile name '{profile.name}' is also used by {seen[profile.name]}")
        seen[profile.name] = profile.path
    return profiles
