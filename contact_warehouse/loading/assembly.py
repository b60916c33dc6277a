"""Mapping profiles, the shapes of rows: the canonical rows of one target from the source rows its filter kept,
one per row variant whose condition holds (a call-log row -> its IVR events), or one per group of source rows
(one row per message -> one conversation), and for a JSON export the records with their nested lists, written
in the export's own format. ``conversion.py`` computes the values; this module arranges them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .common import SOURCE_LINE
from .profile_model import ColumnSpec, MappingProfile, RowVariant, TargetMapping
from .sources import EXPORTS_BY_NAME, JSON_ARRAYS, JSON_PATHS, JSON_SCALAR_ARRAYS, RawTable

_ORDER = "__variant__"
_ROW = "__row__"


def variant_rows(
    table: RawTable, variants: list[RowVariant], rows: Any, lines: pd.Series, evaluator: Callable
) -> pd.DataFrame:
    """Every canonical row of ``table``: per source row, one per variant whose condition holds, in source line
    then variant order; with the source row's index (``__row__``) and ``_source_line``."""
    frames = []
    for order, variant in enumerate(variants):
        hold = rows.holds(variant.when, variant.unless)
        sub = type(rows)(rows.frame[hold])
        values = evaluator(table, variant.columns, sub)
        out = pd.DataFrame({name: values.column(name) for name in table.column_names if name in variant.columns})
        out = out.reindex(columns=[n for n in table.column_names if n in variant.columns], fill_value="")
        out[SOURCE_LINE] = lines[hold].astype("int64")
        out[_ORDER] = order
        out[_ROW] = sub.index
        frames.append(out.reset_index(drop=True))
    if not frames:
        return pd.DataFrame(columns=[*table.column_names, SOURCE_LINE, _ORDER, _ROW])
    result = pd.concat(frames, ignore_index=True).fillna("")
    return result.sort_values([SOURCE_LINE, _ORDER], kind="stable").reset_index(drop=True)


def _aggregate(values: pd.Series, how: str | tuple[str, ...]) -> str:
    present = values[values.ne("")]
    if present.empty:
        return ""
    if isinstance(how, tuple):  # values in order of preference: the first one the group holds
        held = set(present)
        return next((value for value in how if value in held), present.iloc[0])
    if how == "last":
        return present.iloc[-1]
    if how in ("min", "max"):
        # Canonical text: ISO-8601 UTC timestamps compare as text; numbers are compared as numbers.
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.notna().all():
            return present.iloc[int(numbers.argmin() if how == "min" else numbers.argmax())]
        return present.min() if how == "min" else present.max()
    return present.iloc[0]


def grouped(
    main: pd.DataFrame, rows: Any, group_by: tuple[str, ...], specs: dict[str, ColumnSpec]
) -> tuple[pd.DataFrame, dict[int, list[int]], dict[Any, int]]:
    """One row per group of source rows (same stripped ``group_by`` values): each column's first non-empty value
    in line order (or ``aggregate``), the group's first line as its line. Also the lines of each group and,
    per source row index, its group's first line."""
    keys = rows.frame[list(group_by)].apply(lambda col: col.str.strip()).agg("\x1f".join, axis=1)
    main = main.assign(__key__=keys.reindex(main[_ROW]).to_numpy())
    out, members = [], {}
    for _, group in main.groupby("__key__", sort=False):
        first = int(group[SOURCE_LINE].min())
        record = {name: _aggregate(group[name], specs[name].aggregate if name in specs else "first") for name in specs}
        record[SOURCE_LINE] = first
        out.append(record)
        members[first] = sorted(set(int(line) for line in group[SOURCE_LINE]))
    first_of_key = main.groupby("__key__", sort=False)[SOURCE_LINE].min()
    parent_line = {row: int(first_of_key[key]) for row, key in keys.items() if key in first_of_key.index}
    frame = pd.DataFrame(out, columns=[*specs, SOURCE_LINE]).sort_values(SOURCE_LINE, kind="stable")
    return frame.reset_index(drop=True), members, parent_line


def _nest(values: dict[str, str], paths: dict[str, str]) -> dict:
    """A flat canonical row as the export's JSON object (``visitor.email`` -> {"visitor": {"email": ...}}); an
    empty value is left out (no data)."""
    doc: dict = {}
    for name, value in values.items():
        if value == "" or name not in paths:
            continue
        *parents, leaf = paths[name].split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return doc


def write_json(
    export: str, main: pd.DataFrame, children: dict[str, pd.DataFrame], parent_of: dict[str, pd.Series], path: Path
) -> dict[int, int]:
    """Write a JSON export's records (JSON lines, or a ``{"items": [...]}`` document); returns each record's line
    in the written file (a JSON document's item index) -> its source line."""
    table = EXPORTS_BY_NAME[export].main_table
    records, line_map = [], {}
    by_parent = {
        name: {line: part.drop(columns=[SOURCE_LINE]) for line, part in frame.groupby(parent_of[name], sort=False)}
        for name, frame in children.items()
    }
    for position, row in enumerate(main.to_dict("records")):
        doc = _nest({c: row[c] for c in table.column_names if c in row}, JSON_PATHS[table.name])
        for name, parts in by_parent.items():
            items = parts.get(row[SOURCE_LINE])
            if name in JSON_SCALAR_ARRAYS:  # a list of plain values (tags)
                column = JSON_SCALAR_ARRAYS[name]
                doc[JSON_ARRAYS[name]] = [] if items is None else [t for t in items[column].tolist() if t != ""]
            else:
                elements = [] if items is None else items.to_dict("records")
                doc[JSON_ARRAYS[name]] = [_nest(item, JSON_PATHS[name]) for item in elements]
        records.append(doc)
        line_map[position + 1 if EXPORTS_BY_NAME[export].format == "jsonl" else position] = int(row[SOURCE_LINE])
    with path.open("w", encoding="utf-8") as handle:
        if EXPORTS_BY_NAME[export].format == "jsonl":
            handle.writelines(json.dumps(doc, ensure_ascii=False) + "\n" for doc in records)
        else:
            json.dump({"items": records}, handle, ensure_ascii=False)
    return line_map


def assemble(
    profile: MappingProfile,
    mapping: TargetMapping,
    rows: Any,
    lines: pd.Series,
    rejections: Any,
    stem: Path,
    converted: Any,
    evaluator: Callable,
) -> None:
    """Compute one target's canonical rows and write them beside ``stem``; record the path, the source rows
    kept (that made at least one row), and for JSON targets and groups the line maps."""
    table = mapping.table
    main = variant_rows(table, mapping.variants, rows, lines, evaluator)
    kept_rows = set(main[_ROW])
    parent_line = {row: line for row, line in zip(main[_ROW], main[SOURCE_LINE], strict=True)}
    if mapping.group_by:
        specs = {name: spec for v in mapping.variants for name, spec in v.columns.items()}
        main, members, parent_line = grouped(main, rows, mapping.group_by, specs)
        converted.groups[mapping.export] = members
    main = main.reindex(columns=[*table.column_names, SOURCE_LINE], fill_value="")
    main[SOURCE_LINE] = main[SOURCE_LINE].astype("int64")
    export = EXPORTS_BY_NAME[mapping.export]
    if export.format == "csv":
        path = stem.with_name(f"{stem.name}.{mapping.export}.csv")
        main.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    else:
        children, parent_of = {}, {}
        for child in mapping.children:
            frame = variant_rows(child.table, child.variants, rows, lines, evaluator)
            frame = frame[frame[_ROW].isin(list(parent_line))]  # a row with no parent record has no list to join
            parent_of[child.table.name] = frame[_ROW].map(parent_line)
            children[child.table.name] = frame.drop(columns=[_ORDER, _ROW])
        path = stem.with_name(f"{stem.name}.{mapping.export}.{export.format}")
        converted.line_maps[mapping.export] = write_json(mapping.export, main, children, parent_of, path)
    converted.paths[mapping.export] = path
    converted.kept[mapping.export] = len(kept_rows)
