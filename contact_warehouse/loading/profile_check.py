"""Mapping profiles, the check: what a profile makes of a foreign file, without touching the warehouse.

The canonical rows of each target are checked by the loader's own rules (``csv_stage``) in a private in-memory
DuckDB, so a check and a load agree. A source row rejected in one target (by the profile, or by a check on
one of its canonical rows) is rejected in every target, with one reason: the profile's own rejection first,
then the targets' in the profile's order. ``contact-warehouse profile check`` prints the result; the loader
uses ``rejections_in_all_targets``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from .common import SOURCE_LINE
from .conversion import Converted, convert_file
from .csv_stage import failures, stage_csv
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
                stage_csv(con, EXPORTS_BY_NAME[export].main_table, path, file, loaded_at)
            except RefusedFileError:
                continue  # the loader refuses the converted file itself, with its reason
            for line, field_name, reason in failures(con):
                found[export].setdefault(int(line), (field_name, reason))
    return found


def rejections_in_all_targets(profile: MappingProfile, converted: Converted, file: str) -> dict[int, tuple[str, str]]:
    """Source line -> (field, reason) for every source row rejected anywhere: the profile's own rejections,
    then each target's failures in profile order; the field of a target's failure is ``export.column``."""
    rejected = dict(converted.rejected)
    for export, lines in target_failures(converted, file).items():
        for line, (field_name, reason) in lines.items():
            rejected.setdefault(line, (f"{export}.{field_name}", reason))
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


def check_file(profile: MappingProfile, src: Path) -> CheckResult:
    """Convert ``src`` with ``profile`` in a temporary folder and check every canonical row as the loader
    would, touching no warehouse. Raises ForeignFileError (ProfileHeaderError) as the loader would refuse."""
    src = Path(src)
    with tempfile.TemporaryDirectory(prefix="contact_warehouse_check_") as tmp:
        converted = convert_file(profile, src, Path(tmp))
        rejected = rejections_in_all_targets(profile, converted, str(src))
        result = CheckResult(profile.name, src, converted.foreign_rows, rejected=rejected)
        for export, path in converted.paths.items():
            rows = pd.read_csv(path, dtype=str, keep_default_na=False)
            bad = rows[SOURCE_LINE].astype(int).isin(list(rejected))
            preview = TargetPreview(export, rows[~bad].reset_index(drop=True))
            preview.loaded, preview.rejected = int((~bad).sum()), int(bad.sum())
            preview.filtered = converted.foreign_rows - converted.kept[export]
            result.targets.append(preview)
    return result


def format_check(result: CheckResult, limit: int = 10) -> str:
    """The check as text: per target its counts and first canonical rows, then every rejected source row."""
    out = [f"profile {result.profile} on {result.file}: {result.foreign_rows} source rows"]
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
