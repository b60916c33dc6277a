"""Mapping profiles, the schema: which keys a profile file may hold at each level, checked with pydantic before
``profiles.py`` checks what the values mean. A misspelt key is an error naming the file, the line, the key and
the keys allowed there. The YAML is read keeping each key's line, so every later error can name its line too.

The format itself is documented in docs/mapping_profiles.md.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# The format versions this code reads. Version 1 (no ``version`` key) is a subset of version 2: an old
# profile loads unchanged.
VERSIONS = (1, 2)

Scalar = str | bool | None
Path_ = tuple[str | int, ...]


class _ProfileYamlLoader(yaml.SafeLoader):
    """YAML where only true/false/null are typed: vendor codes like Y, N, no, off, 007 stay text."""

    yaml_implicit_resolvers: dict = {}


_ProfileYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_ProfileYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def read_yaml(text: str) -> tuple[Any, dict[Path_, int]]:
    """The document and the 1-based line of every mapping key and list item, by its key path."""
    loader = _ProfileYamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}

    def walk(node: yaml.Node, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = (key_node.value,) if isinstance(key_node, yaml.ScalarNode) else ()
                if key:
                    lines.setdefault(path + key, key_node.start_mark.line + 1)
                    walk(value_node, path + key)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines.setdefault((*path, index), item.start_mark.line + 1)
                walk(item, (*path, index))

    if node is not None:
        lines[()] = node.start_mark.line + 1
        walk(node, ())
    return data, lines


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """The line of the key at ``path``, else of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def split_where(where: str) -> Path_:
    """``targets.calls.columns.status.cases[0]`` as a key path."""
    parts: list[str | int] = []
    for part in where.split("."):
        name, *indexes = part.split("[")
        if name:
            parts.append(name)
        parts += [int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit()]
    return tuple(parts)


# ----------------------------------------------------------------------------------------------- models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, arbitrary_types_allowed=True)


class ValueTest(_Strict):
    """One condition on a foreign column; every test given must hold."""

    in_: list[Scalar] | None = Field(None, alias="in")
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    below: float | None = None
    above: float | None = None
    same_as: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _values(cls, raw: Any) -> Any:
        # {col: [a, b]} and {col: a} are shorthands for {col: {in: [a, b]}}.
        if isinstance(raw, list):
            return {"in": raw}
        if not isinstance(raw, dict):
            return {"in": [raw]}
        return raw


Condition = dict[str, ValueTest]


class ColumnModel(_Strict):
    from_: str | list[str] | None = Field(None, alias="from")
    const: Scalar = None
    template: str | None = None
    after: str | None = None
    cases: list[ColumnModel] | None = None
    plus: str | list[str] | None = None
    unit: str | None = None
    transform: str | list[str] | None = None
    map: dict[str, Scalar] | None = None
    format: str | list[str] | None = None
    timezone: str | None = None
    default: ColumnModel | None = None
    when: Condition | None = None
    unless: Condition | None = None
    rollover_after: str | ColumnModel | None = None
    aggregate: str | list[Scalar] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, raw: Any) -> Any:
        # ``col: vendor_col`` is ``col: {from: vendor_col}``.
        return {"from": raw} if isinstance(raw, str) else raw

    @field_validator("default", mode="before")
    @classmethod
    def _constant_default(cls, raw: Any) -> Any:
        # A scalar default is a constant, not a foreign column name.
        return raw if isinstance(raw, dict) else {"const": raw}

    @field_validator("map", mode="before")
    @classmethod
    def _text_keys(cls, raw: Any) -> Any:
        return {("" if k is None else str(k)): v for k, v in raw.items()} if isinstance(raw, dict) else raw


class RowModel(_Strict):
    """One of several canonical rows a source row writes into the same table (``rows``)."""

    when: Condition | None = None
    unless: Condition | None = None
    columns: dict[str, ColumnModel] = {}


class ChildModel(_Strict):
    """A JSON export's nested list (a conversation's messages, a form submission's answers)."""

    columns: dict[str, ColumnModel] = {}
    rows: list[RowModel] | None = None


class TargetModel(_Strict):
    when: Condition | None = None
    unless: Condition | None = None
    columns: dict[str, ColumnModel] = {}
    rows: list[RowModel] | None = None
    group_by: str | list[str] | None = None
    children: dict[str, ChildModel | None] | None = None


class RejectModel(_Strict):
    """A rule that rejects a source row in every target, with its own reason."""

    field: str
    reason: str
    when: Condition | None = None
    unless: Condition | None = None


class ProfileModel(_Strict):
    version: int = 1
    description: Scalar = None
    folder: str | None = None
    file_patterns: str | list[str] | None = None
    delimiter: str | None = None
    encoding: str | None = None
    header_row: int | str | None = None
    timezone: str | None = None
    reject: list[RejectModel] | None = None
    format: str | None = None
    records: str | list[str] | None = None
    targets: dict[str, TargetModel | None]

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in VERSIONS:
            raise ValueError(f"unknown version {value} (known: {', '.join(map(str, VERSIONS))})")
        return value


ColumnModel.model_rebuild()


# ------------------------------------------------------------------------------------------------ errors


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _unwrap(annotation: Any) -> Any:
    """``X | None`` (and ``str | list[X]``) as the one member that can hold keys: a model, a dict or a list."""
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return annotation
    members = [a for a in typing.get_args(annotation) if a is not type(None)]
    models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
    containers = [a for a in members if typing.get_origin(a) in (dict, list)]
    return (models or containers or members)[0]


def _model_at(loc: Path_) -> type[BaseModel] | None:
    """The model that validates the mapping at ``loc`` (to list the keys allowed there)."""
    current: Any = ProfileModel
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {info.alias or name: info.annotation for name, info in current.model_fields.items()}
            if part not in fields:
                return None
            current = fields[part]
        elif origin is dict:
            current = typing.get_args(current)[1]
        elif origin is list:
            current = typing.get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _where(loc: Path_) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "profile"


def _data_loc(raw: Any, loc: tuple, keep_last: bool) -> Path_:
    """Pydantic's error location without the names it adds for union members: only keys present in the data,
    and the last part (a missing key is not in the data)."""
    kept: list[str | int] = []
    current = raw
    for i, part in enumerate(loc):
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_dict or in_list:
            kept.append(part)
            current = current[part]
        elif keep_last and i == len(loc) - 1 and isinstance(part, str) and isinstance(current, dict):
            kept.append(part)
    return tuple(kept)


def schema_errors(raw: Any, lines: dict[Path_, int]) -> list[tuple[int | None, str, str]]:
    """Each key the schema refuses: (line, key path, problem), in file order."""
    if not isinstance(raw, dict):
        return [(lines.get(()), "profile", f"expected a mapping of keys, got {type(raw).__name__}")]
    try:
        ProfileModel.model_validate(raw)
    except ValidationError as exc:
        found = []
        seen: set[Path_] = set()
        for error in exc.errors():
            loc = _data_loc(raw, error["loc"], error["type"] in ("extra_forbidden", "missing"))
            if loc in seen:
                continue  # one problem per key: a union reports each of its members
            seen.add(loc)
            if error["type"] == "extra_forbidden":
                model = _model_at(loc[:-1])
                allowed = f" (allowed: {', '.join(_keys_of(model))})" if model else ""
                problem = f"unknown key '{loc[-1]}'{allowed}"
            elif error["type"] == "missing":
                problem = "missing"
            else:
                problem = error["msg"]
            found.append((line_of(lines, loc), _where(loc), problem, error["type"] != "extra_forbidden"))
        found.sort(key=lambda item: (item[3], item[0] or 0))  # a misspelt key first: it explains a missing one
        return [item[:3] for item in found]
    return []


def check_schema(path: Path, raw: Any, lines: dict[Path_, int]) -> None:
    """Raise the first schema error as a ProfileError-compatible ValueError message (see profiles.py)."""
    errors = schema_errors(raw, lines)
    if errors:
        line, where, problem = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        at = f", line {line}" if line else ""
        raise ValueError(f"{path}{at}: {where}: {problem}{more}")
