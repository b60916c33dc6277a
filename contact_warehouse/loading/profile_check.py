"""Mapping profiles, the check: what a profile makes of a foreign file, without touching the warehouse.

The canonical rows of each target are checked by the loader's own rules (``csv_stage``) in a private in-memory
DuckDB, so a check and a load agree. A source row rejected in one target (by the profile, or by a check on
one of its canonical rows) is rejected in every target, with one reason: the profile's own rejection first,
then the targets' in the profile's order. ``contact-warehouse profile check`` prints the result; the loader
uses ``rejections_in_all_targets``.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from .common import SOURCE_LINE
from .conversion import Converted, convert_file
from .csv_stage import failures, stage_csv
from .json_records import json_failures, stage_json
from .profiles import MappingProfile
from .scan import RefusedFileError
from .sources import EXPORTS_BY_NAME


def _scratch() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("set TimeZone = 'UTC'")  # as the loader: a timestamp without offset is UTC
    return con


def target_failures(converted: Converted, file: str) -> dict[str, dict[int, tuple[str, str]]]:
    """Per target, the source lines whose canonical rows fail the loader's checks: line -> (field, reason)."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    found: dict[str, dict[int, tuple[str, str]]] = {}
    with _scratch() as con:
        for export, path in converted.paths.items():
            found[export] = {}
            try:
                if EXPORTS_BY_NAME[export].format == "csv":
                    stage_csv(con, EXPORTS_BY_NAME[export].main_table, path, file, loaded_at)
                    failed = failures(con)
                else:
                    stage_json(con, EXPORTS_BY_NAME[export], path, file, loaded_at, converted.line_maps.get(export))
                    failed = json_failures(con)
            except RefusedFileError:
                continue  # the loader refuses the converted file itself, with its reason
            for line, field_name, reason in failed:
                found[export].setdefault(int(line), (field_name, reason))
    return found


def rejections_in_all_targets(profile: MappingProfile, converted: Converted, file: str) -> dict[int, tuple[str, str]]:
    """Source line -> (field, reason) for every source row rejected anywhere: the profile's own rejections,
    then each target's failures in profile order; the field of a target's failure is ``export.column``."""
    rejected = dict(converted.rejected)
    for export, lines in target_failures(converted, file).items():
        for line, (field_name, reason) in lines.items():
            rejected.setdefault(line, (f"{export}.{field_name}", reason))
    # A group (one conversation from several source rows) stands or falls with all of its rows.
    groups = [members for by_first in converted.groups.values() for members in by_first.values()]
    changed = True
    while changed:
        changed = False
        for members in groups:
            verdict = next((rejected[line] for line in members if line in rejected), None)
            if verdict is not None and any(line not in rejected for line in members):
                rejected.update({line: verdict for line in members if line not in rejected})
                changed = True
    return rejected


@dataclass
class TargetPreview:
    export: str
    rows: pd.DataFrame  # the canonical rows that would load, with _source_line
    loaded: int = 0
    rejected: int = 0
    filtered: int = 0


@dataclass
class CheckResult:
    profile: str
    file: Path
    foreign_rows: int
    targets: list[TargetPreview] = field(default_factory=list)
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)  # source line -> (field, reason)
    sample: int = 0

    @property
    def sampled(self) -> str:
        return f" (the first {self.sample} read: --sample)" if self.sample and self.foreign_rows >= self.sample else ""


def _preview_rows(path: Path, line_map: dict[int, int] | None) -> pd.DataFrame:
    """A converted file's records as a table: CSV columns, or a JSON record's fields (nested lists as JSON)."""
    if line_map is None:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    text = path.read_text(encoding="utf-8")
    records = json.loads(text)["items"] if path.suffix == ".json" else [json.loads(x) for x in text.splitlines()]
    flat = [
        {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in record.items()}
        for record in records
    ]
    frame = pd.DataFrame(flat).fillna("").astype(str)
    frame[SOURCE_LINE] = [str(line) for _, line in sorted(line_map.items())]
    return frame


def check_file(profile: MappingProfile, src: Path, sample: int = 0) -> CheckResult:
    """Convert ``src`` (its first ``sample`` rows, all if 0) with ``profile`` in a temporary folder and check
    every canonical row as the loader would, touching no warehouse. Raises ForeignFileError
    (ProfileHeaderError) as the loader would refuse the file."""
    src = Path(src)
    with tempfile.TemporaryDirectory(prefix="contact_warehouse_check_") as tmp:
        converted = convert_file(profile, src, Path(tmp), sample)
        rejected = rejections_in_all_targets(profile, converted, str(src))
        result = CheckResult(profile.name, src, converted.foreign_rows, rejected=rejected, sample=sample)
        for export, path in converted.paths.items():
            rows = _preview_rows(path, converted.line_maps.get(export))
            bad = rows[SOURCE_LINE].astype(int).isin(list(rejected))
            preview = TargetPreview(export, rows[~bad].reset_index(drop=True))
            preview.loaded, preview.rejected = int((~bad).sum()), int(bad.sum())
            preview.filtered = converted.foreign_rows - converted.kept[export]
            result.targets.append(preview)
    return result


def format_check(result: CheckResult, limit: int = 10) -> str:
    """The check as text: per target its counts and first canonical rows, then every rejected source row."""
    out = [f"profile {result.profile} on {result.file}: {result.foreign_rows} source rows{result.sampled}"]
    for target in result.targets:
        read = target.loaded + target.rejected + target.filtered
        out.append(
            f"\n{target.export}: read {read}, would load {target.loaded}, rejected {target.rejected}, "
            f"filtered {target.filtered}"
        )
        if len(target.rows):
            shown = target.rows.head(limit).replace("", "NULL")
            out.append(shown.to_string(index=False, max_colwidth=40))
            if len(target.rows) > limit:
                out.append(f"... {len(target.rows) - limit} more rows")
    out.append(f"\nrejected source rows: {len(result.rejected)}")
    for line, (field_name, reason) in sorted(result.rejected.items()):
        out.append(f"  line {line}: {field_name}: {reason}")
    return "\n".join(out)
