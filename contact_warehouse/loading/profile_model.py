"""Mapping profiles, the model: a validated profile as data (``profiles.py`` builds it, ``conversion.py`` applies
it). Every name here is re-exported by ``profiles.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .sources import EXPORTS_BY_NAME, RawTable


@dataclass(frozen=True)
class Test:
    """A condition on one foreign column's stripped value: every test given must hold. Numeric tests fail on a
    value that is not a number; ``pattern`` must match the whole value."""

    values: frozenset[str] | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    below: float | None = None
    above: float | None = None
    same_as: str | None = None  # another foreign column of the same row, whose stripped value must be equal

    @property
    def numeric(self) -> bool:
        return any(bound is not None for bound in (self.min, self.max, self.below, self.above))


Condition = dict[str, Test]


def condition_columns(*conditions: Condition) -> list[str]:
    """The foreign columns the conditions read: each tested column and the columns it is compared with."""
    return [c for cond in conditions for name, test in cond.items() for c in (name, test.same_as) if c]


@dataclass
class ColumnSpec:
    """How one canonical column is computed from a foreign row (docs/mapping_profiles.md)."""

    source: str  # one of SOURCE_KEYS
    columns: tuple[str, ...] = ()  # from
    const: str = ""
    template: tuple[tuple[bool, str], ...] = ()  # (is_placeholder, text)
    after: str = ""
    plus: tuple[str, ...] = ()
    cases: tuple[ColumnSpec, ...] = ()
    transforms: tuple[str, ...] = ()
    value_map: dict[str, str] | None = None
    formats: tuple[str, ...] = ()  # strptime formats of a timestamp, tried in order
    timezone: str | None = None
    unit: str = "seconds"
    default: str | ColumnSpec | None = None
    when: Condition = field(default_factory=dict)
    unless: Condition = field(default_factory=dict)
    # A timestamp of the same row (a canonical column's name, or a spec): a value before it is one day later.
    rollover_after: str | ColumnSpec = ""
    # With group_by: first or last non-empty value of the group, min or max, or a list of values in order of
    # preference (the first of them the group holds).
    aggregate: str | tuple[str, ...] = "first"

    @property
    def format(self) -> str | None:
        """The first format (version 1 profiles had exactly one)."""
        return self.formats[0] if self.formats else None

    def children(self) -> list[ColumnSpec]:
        specs = [*self.cases, self.default, self.rollover_after]
        return [spec for spec in specs if isinstance(spec, ColumnSpec)]

    def foreign_columns(self) -> list[str]:
        own = [*self.columns, *(text for is_col, text in self.template if is_col), *self.plus]
        own += condition_columns(self.when, self.unless)
        return own + [c for child in self.children() for c in child.foreign_columns()]

    def after_refs(self) -> list[str]:
        """Canonical columns this one is computed from (``after`` and ``rollover_after``)."""
        own = [ref for ref in (self.after, self.rollover_after) if ref and isinstance(ref, str)]
        return own + [ref for child in self.children() for ref in child.after_refs()]


@dataclass
class RowVariant:
    """One of the canonical rows a source row writes into a table: its columns (the target's shared columns
    overridden by the entry's) and the condition on the source row that makes it."""

    columns: dict[str, ColumnSpec]
    when: Condition = field(default_factory=dict)
    unless: Condition = field(default_factory=dict)

    def foreign_columns(self) -> list[str]:
        return [
            *condition_columns(self.when, self.unless),
            *(c for spec in self.columns.values() for c in spec.foreign_columns()),
        ]


@dataclass
class ChildMapping:
    """A JSON export's nested list (a conversation's messages, a submission's answers): rows per source row."""

    table: RawTable
    variants: list[RowVariant]

    def foreign_columns(self) -> list[str]:
        return [c for variant in self.variants for c in variant.foreign_columns()]


@dataclass
class TargetMapping:
    """How one canonical export is filled from a foreign file: rows of its main table per source row (one per
    variant whose condition holds), or one per group of source rows; for a JSON export, its nested lists."""

    export: str
    variants: list[RowVariant]
    when: Condition = field(default_factory=dict)
    unless: Condition = field(default_factory=dict)
    group_by: tuple[str, ...] = ()
    children: list[ChildMapping] = field(default_factory=list)

    @property
    def columns(self) -> dict[str, ColumnSpec]:
        """The first variant's columns (a target without ``rows`` has exactly one variant)."""
        return self.variants[0].columns

    @property
    def table(self) -> RawTable:
        return EXPORTS_BY_NAME[self.export].main_table

    @property
    def is_json(self) -> bool:
        return EXPORTS_BY_NAME[self.export].format != "csv"

    def foreign_columns(self) -> list[str]:
        own = [*condition_columns(self.when, self.unless), *self.group_by]
        return own + [c for part in (*self.variants, *self.children) for c in part.foreign_columns()]


@dataclass
class RejectRule:
    """Source rows where the condition holds are rejected in every target, at ``field``, with ``reason``."""

    field: str
    reason: str
    when: Condition = field(default_factory=dict)
    unless: Condition = field(default_factory=dict)


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
    version: int = 1
    reject: list[RejectRule] = field(default_factory=list)
    format: str = "csv"  # csv (any delimiter), json (a document) or jsonl (JSON lines)
    # JSON input: the dotted path (or paths) of the lists whose innermost elements are the rows
    records: str | tuple[str, ...] = ""

    @property
    def targets(self) -> list[str]:
        """Canonical export names this profile writes, in file order."""
        return list(self.mappings)

    def foreign_columns(self) -> list[str]:
        """Every foreign column the profile reads, once each, in first-use order."""
        rules = [c for rule in self.reject for c in condition_columns(rule.when, rule.unless)]
        return list(dict.fromkeys([*rules, *(c for m in self.mappings.values() for c in m.foreign_columns())]))


# ---------------------------------------------------------------------------------------- loading
