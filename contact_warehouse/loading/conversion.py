"""Mapping profiles, the conversion: evaluate a validated profile (profiles.py) over a foreign CSV with pandas,
vectorised per column, and write one canonical CSV per target export with each record's physical line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .profiles import UNIT_SECONDS, ColumnSpec, Condition, MappingProfile, Test
from .sources import Column, RawTable

# [[H:]MM:]SS[.fff]: the clock form vendors use in reports, or a plain number of ``unit``.
_DURATION_RE = r"^(?:(?:(?P<h>\d+):)?(?P<m>\d{1,2}):)?(?P<s>\d+(?:\.\d*)?)$"
# An explicit offset after a time of day; a bare date such as 2026-10-05 must not read as offset -05.
_OFFSET_RE = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"


class ForeignFileError(ValueError):
    """A foreign file cannot be converted as a whole (the loader refuses it)."""


class ProfileHeaderError(ForeignFileError):
    """A foreign file's header lacks columns its mapping profile reads."""


# ------------------------------------------------------------------------------------ value parsing


def _clock_durations(text: pd.Series) -> pd.Series:
    parts = text.str.extract(_DURATION_RE)
    hours, minutes, seconds = (pd.to_numeric(parts[g], errors="coerce") for g in ("h", "m", "s"))
    valid = minutes.notna() & (seconds < 60) & (hours.isna() | (minutes < 60))
    return (hours.fillna(0) * 3600 + minutes * 60 + seconds).where(valid)


def _durations(text: pd.Series, unit: str) -> pd.Series:
    """Seconds as floats from stripped text; NaN where it is empty or not a duration."""
    # Plain numbers are the common case and parse in C; only the rest go through the clock regex.
    number = pd.to_numeric(text, errors="coerce")
    seconds = (number * UNIT_SECONDS[unit]).where(np.isfinite(number) & (number >= 0))
    clock = seconds.isna() & text.str.contains(":", regex=False)
    if clock.any():
        seconds[clock] = _clock_durations(text[clock])
    return seconds


def _localize_into(result: pd.Series, text: pd.Series, rows: pd.Series, fmt: str, tz: str | None) -> None:
    """Parse ``text[rows]`` with ``fmt`` into ``result``; ``tz`` None means the values carry offsets."""
    if not rows.any():
        return
    if tz is None:
        result[rows] = pd.to_datetime(text[rows], format=fmt, utc=True, errors="coerce")
        return
    local = pd.to_datetime(text[rows], format=fmt, errors="coerce")
    # A wall-clock time that occurs twice (DST fall-back) is read as its first occurrence; one that
    # never occurs (spring-forward gap) is moved forward: a vendor did log it, so keep the row.
    ambiguous = np.ones(len(local), dtype=bool)
    result[rows] = local.dt.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward").dt.tz_convert("UTC")


def _parse_timestamps(text: pd.Series, formats: tuple[str, ...], tz: str) -> pd.Series:
    """UTC timestamps; NaT where empty or unparseable. Values with an offset keep it; others are in ``tz``.

    Each format is tried in order on the values the earlier ones left unparsed (a column mixing 2015-04-08
    and 22-04-15). Values that match none are tried as ISO-8601 too: passed through raw, an ISO value would be
    accepted by the loader as UTC, silently shifting a local-time export.
    """
    text = text.str.strip()
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    for fmt in formats:
        _localize_into(result, text, result.isna() & text.ne(""), fmt, None if "%z" in fmt else tz)
    todo = result.isna() & text.ne("")
    if todo.any() and tz == "UTC":
        _localize_into(result, text, todo, "ISO8601", None)  # naive or not, the values read the same
    elif todo.any():
        # Reindexed, not set through the mask: a Series set through a boolean mask is aligned to the whole index
        # first, and the NaN of the other rows upcast the bool mask (pandas' FutureWarning).
        has_offset = text[todo].str.contains(_OFFSET_RE, regex=True).reindex(text.index, fill_value=False)
        _localize_into(result, text, has_offset, "ISO8601", None)
        _localize_into(result, text, todo & ~has_offset, "ISO8601", tz)
    return result


def _format_utc(stamps: pd.Series) -> pd.Series:
    """ISO-8601 in UTC with ``Z``; microseconds only where there are any. NaT becomes ''."""
    out = pd.Series("", index=stamps.index, dtype=object)
    valid = stamps.notna()
    if valid.any():
        exact = stamps[valid].dt.tz_convert(None).to_numpy()
        seconds = exact.astype("datetime64[s]")
        text = np.datetime_as_string(seconds, unit="s").astype(object)
        fraction = seconds != exact
        if fraction.any():
            text[fraction] = np.datetime_as_string(exact[fraction], unit="us")
        out[valid] = text + "Z"
    return out


def _pass_through(raw: pd.Series, parsed_ok: pd.Series, parsed_text: pd.Series) -> pd.Series:
    """Parsed text where parsing worked, else the raw value unchanged, so the loader quarantines it with
    its line and field instead of it silently becoming NULL (blank raw values load as NULL there)."""
    return parsed_text.where(parsed_ok, raw)


def _to_duration_seconds(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    seconds = _durations(values.str.strip(), spec.unit)
    ok = seconds.notna()
    whole = pd.Series("", index=values.index, dtype=object)
    whole[ok] = seconds[ok].round().astype("int64").astype(str)
    return _pass_through(values, ok, whole)


TRANSFORMS: dict[str, Callable[[pd.Series, ColumnSpec], pd.Series]] = {
    "duration": _to_duration_seconds,
    "lower": lambda values, _spec: values.str.lower(),
    "upper": lambda values, _spec: values.str.upper(),
    "strip": lambda values, _spec: values.str.strip(),
}


# ------------------------------------------------------------------------------------- evaluation


class _Rows:
    """Foreign rows as text; a column's stripped values are computed once, as many conditions reuse them."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.index = frame.index
        self._stripped: dict[str, pd.Series] = {}

    def __getitem__(self, name: str) -> pd.Series:
        return self.frame[name]

    def stripped(self, name: str) -> pd.Series:
        if name not in self._stripped:
            self._stripped[name] = self.frame[name].str.strip()
        return self._stripped[name]

    def holds(self, when: Condition, unless: Condition) -> pd.Series:
        """True where every ``when`` entry matches and no ``unless`` entry does."""
        ok = pd.Series(True, index=self.index)
        for name, test in when.items():
            ok &= self.passes(name, test)
        for name, test in unless.items():
            ok &= ~self.passes(name, test)
        return ok

    def passes(self, name: str, test: Test) -> pd.Series:
        values = self.stripped(name)
        ok = pd.Series(True, index=self.index)
        if test.values is not None:
            ok &= values.isin(test.values)
        if test.pattern is not None:
            ok &= values.str.fullmatch(test.pattern).fillna(False).astype(bool)
        if test.same_as is not None:
            # Two empty values are not "the same" person: a comment without an author is nobody's.
            other = self.stripped(test.same_as)
            ok &= values.eq(other) & values.ne("")
        if test.numeric:
            # A value that is not a number fails every numeric test (NaN compares false).
            number = pd.to_numeric(values, errors="coerce")
            for bound, compare in (
                (test.min, number.ge),
                (test.max, number.le),
                (test.below, number.lt),
                (test.above, number.gt),
            ):
                if bound is not None:
                    ok &= compare(bound)
        return ok


class Rejections:
    """Source rows a profile rejects before the loader's checks (a reject rule, a negative duration in
    ``plus``): the first reason per row wins, and the row is rejected in every target."""

    def __init__(self, index: pd.Index) -> None:
        self.field = pd.Series("", index=index, dtype=object)
        self.reason = pd.Series("", index=index, dtype=object)

    def add(self, rows: pd.Series, field: str, reason: str | pd.Series) -> None:
        new = rows.reindex(self.reason.index, fill_value=False).astype(bool) & self.reason.eq("")
        self.field[new] = field
        self.reason[new] = reason if isinstance(reason, str) else reason.reindex(self.reason.index)[new]

    def by_line(self, lines: pd.Series) -> dict[int, tuple[str, str]]:
        hit = self.reason.ne("")
        return {int(lines[i]): (self.field[i], self.reason[i]) for i in self.reason.index[hit]}


class _TargetEvaluator:
    """Computes the canonical columns of one target over a frame of foreign rows (all text)."""

    def __init__(
        self,
        profile: MappingProfile,
        table: RawTable,
        columns: dict[str, ColumnSpec],
        rows: _Rows,
        rejections: Rejections,
    ) -> None:
        self.profile = profile
        self.rejections = rejections
        self.columns = columns
        self.rows = rows
        self.by_name = {c.name: c for c in table.columns}
        self.done: dict[str, pd.Series] = {}

    def empty(self) -> pd.Series:
        return pd.Series("", index=self.rows.index, dtype=object)

    def column(self, name: str) -> pd.Series:
        if name not in self.done:
            spec = self.columns.get(name)
            column = self.by_name[name]
            self.done[name] = self.empty() if spec is None else self.evaluate(spec, column, (), self.profile.timezone)
        return self.done[name]

    def evaluate(self, spec: ColumnSpec, column: Column, fmts: tuple[str, ...], tz: str) -> pd.Series:
        fmts, tz = spec.formats or fmts, spec.timezone or tz
        values = self.source(spec, column, fmts, tz)
        for name in spec.transforms:
            values = TRANSFORMS[name](values, spec)
        if spec.value_map is not None:
            values = values.str.strip().map(spec.value_map).fillna(values)
        # Derived and case values are already canonical; only values read from the file need parsing.
        if column.type == "timestamp" and spec.source in ("from", "const", "template"):
            stamps = _parse_timestamps(values, fmts, tz)
            if spec.rollover_after:
                stamps = self.rolled_over(stamps, spec.rollover_after)
            values = _pass_through(values, stamps.notna(), _format_utc(stamps))
        if spec.default is not None:
            values = self.fill_default(values, spec.default, column, fmts, tz)
        if spec.when or spec.unless:
            values = values.where(self.rows.holds(spec.when, spec.unless), "")
        return values.astype(object)

    def fill_default(
        self, values: pd.Series, default: str | ColumnSpec, column: Column, fmts: tuple[str, ...], tz: str
    ) -> pd.Series:
        empty = values.eq("")
        if not empty.any():
            return values
        fill = default if isinstance(default, str) else self.evaluate(default, column, fmts, tz)
        return values.where(~empty, fill)

    def source(self, spec: ColumnSpec, column: Column, fmts: tuple[str, ...], tz: str) -> pd.Series:
        if spec.source == "from":
            joined = self.rows[spec.columns[0]]
            for name in spec.columns[1:]:
                joined = joined + " " + self.rows[name]
            return joined.str.strip() if len(spec.columns) > 1 else joined.astype(object)
        if spec.source == "const":
            return pd.Series(spec.const, index=self.rows.index, dtype=object)
        if spec.source == "template":
            out = self.empty()
            for is_col, text in spec.template:
                out = out + (self.rows[text] if is_col else text)
            return out
        if spec.source == "after":
            return self.derive(spec)
        return self.first_case(spec, column, fmts, tz)

    def first_case(self, spec: ColumnSpec, column: Column, fmts: tuple[str, ...], tz: str) -> pd.Series:
        out = self.empty()
        decided = pd.Series(False, index=self.rows.index)
        for case in spec.cases:
            chosen = ~decided & self.rows.holds(case.when, case.unless)
            if chosen.any():
                out = out.where(~chosen, self.evaluate(case, column, fmts, tz))
            decided |= chosen
        return out

    def rolled_over(self, stamps: pd.Series, base_column: str | ColumnSpec) -> pd.Series:
        """A time of day written without its date (an end time beside the start's date) that falls before its
        base timestamp is on the next day: midnight passed in between."""
        if isinstance(base_column, ColumnSpec):
            column = Column("rollover_base", "timestamp")
            base_text = self.evaluate(base_column, column, (), self.profile.timezone)
        else:
            base_text = self.column(base_column)
        base = pd.to_datetime(base_text, format="ISO8601", utc=True, errors="coerce")
        earlier = stamps.notna() & base.notna() & (stamps < base)
        return stamps.where(~earlier, stamps + pd.Timedelta(days=1))

    def derive(self, spec: ColumnSpec) -> pd.Series:
        """``after`` + ``plus``: empty where the base or a duration is empty (nothing is invented); a
        duration that does not parse is written raw so the row is quarantined on this column."""
        # The base is this converter's own output: ISO-8601 with Z, '' or a raw value that failed to parse.
        base = pd.to_datetime(self.column(spec.after), format="ISO8601", utc=True, errors="coerce")
        total = pd.Series(0.0, index=self.rows.index)
        usable = base.notna()
        bad_raw = self.empty()
        for name in spec.plus:
            raw, stripped = self.rows[name], self.rows.stripped(name)
            seconds = _durations(stripped, spec.unit)
            negative = pd.to_numeric(stripped, errors="coerce").lt(0)
            self.rejections.add(negative, name, "negative duration '" + stripped + "'")
            invalid = seconds.isna() & stripped.ne("") & ~negative
            bad_raw = bad_raw.where(~(invalid & bad_raw.eq("")), raw)
            usable &= seconds.notna()
            total = total + seconds.fillna(0)
        stamps = (base + pd.to_timedelta(total, unit="s")).where(usable)
        out = _format_utc(stamps)
        return out.where(~(base.notna() & bad_raw.ne("")), bad_raw)


# ------------------------------------------------------------------------------------- conversion


def _read_options(profile: MappingProfile) -> dict[str, Any]:
    return {
        "sep": profile.delimiter,
        "encoding": profile.encoding,
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
        "skiprows": profile.header_row - 1,
        # The header is read as a row: it then fixes the width, so a wider record anywhere is an error.
        # With header=0, pandas would silently turn a first record one field too wide into an index.
        "header": None,
        # Blank lines stay as rows so that row positions map to physical lines; they are dropped later.
        "skip_blank_lines": False,
    }


def _check_header(profile: MappingProfile, src: Path, header: list[str]) -> None:
    missing = [c for c in profile.foreign_columns() if c not in header]
    if missing:
        raise ProfileHeaderError(
            f"{src}: header lacks column(s) {', '.join(repr(c) for c in missing)} read by mapping profile "
            f"'{profile.name}' ({profile.path}); header has: {', '.join(header)}"
        )


def _read_foreign(profile: MappingProfile, src: Path, sample: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """The foreign rows as text, and each row's 1-based physical line in the file; with ``sample``, only the
    first rows (records after the header, blank lines included)."""
    if profile.format != "csv":
        frame, lines = _read_foreign_json(profile, src)
        return (frame.iloc[:sample], lines.iloc[:sample]) if sample else (frame, lines)
    options = _read_options(profile)
    try:
        header = pd.read_csv(src, nrows=1, **options).iloc[0].tolist()
        _check_header(profile, src, [str(c).strip() for c in header])
        frame = pd.read_csv(src, **options, **({"nrows": sample + 1} if sample else {})).iloc[1:]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, IndexError) as exc:
        raise ForeignFileError(
            f"{src}: cannot be read as CSV by mapping profile '{profile.name}' ({profile.path}): {exc}"
        ) from exc
    header_newlines = sum(str(c).count("\n") for c in header)
    frame.columns = [str(c).strip() for c in header]
    frame = frame.reset_index(drop=True).astype(object)  # na_filter=False: every cell is already text
    newlines = _embedded_newlines(frame)
    first_data_line = profile.header_row + header_newlines + 1
    lines = first_data_line + pd.Series(np.arange(len(frame)), index=frame.index) + newlines.cumsum() - newlines
    blank = pd.Series(True, index=frame.index)
    for name in frame.columns:
        blank &= frame[name].eq("")
    return frame[~blank], lines[~blank]


def _read_foreign_json(profile: MappingProfile, src: Path) -> tuple[pd.DataFrame, pd.Series]:
    """JSON input: vendors leave out empty fields, so a column no record has is empty, not a header error."""
    from .json_input import JsonInputError, read_json_rows

    try:
        frame, lines = read_json_rows(src, profile.encoding, profile.format, profile.records)
    except (JsonInputError, UnicodeDecodeError) as exc:
        raise ForeignFileError(f"{exc} (mapping profile '{profile.name}', {profile.path})") from exc
    for name in profile.foreign_columns():
        if name not in frame.columns:
            frame[name] = ""
    return frame, lines


def _embedded_newlines(frame: pd.DataFrame) -> pd.Series:
    """Newlines inside each record's quoted values: each pushes every later record one line down."""
    newlines = pd.Series(0, index=frame.index, dtype="int64")
    for name in frame.columns:
        values = frame[name]
        # One C-speed scan of the whole column first: most columns never hold a newline.
        if "\n" in "".join(values.tolist()):
            newlines += values.str.count("\n")
    return newlines


@dataclass
class Converted:
    """One foreign file converted: a canonical CSV per target, the file's records (blank lines are none),
    how many of them each target's filter kept, and the source lines the profile itself rejects, with the
    field and reason (the loader rejects them in every target)."""

    paths: dict[str, Path]
    foreign_rows: int
    kept: dict[str, int]
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)
    # JSON targets: each record's line in the converted file -> its source line (its group's first line).
    line_maps: dict[str, dict[int, int]] = field(default_factory=dict)
    # Targets with group_by: a group's first source line -> every source line of the group.
    groups: dict[str, dict[int, list[int]]] = field(default_factory=dict)


def convert_file(profile: MappingProfile, src: Path, out_dir: Path, sample: int = 0) -> Converted:
    """Convert one foreign file into one canonical file per target export, written into ``out_dir``.

    A CSV target's output (``<src stem>.<export>.csv``, UTF-8, comma-separated) has the export's main-table
    columns then ``_source_line``: the 1-based physical line where the originating record starts in ``src``
    (line 1 is the first line of the file; quoted values spanning lines are counted); a JSON target's output
    is in the export's own format, with ``Converted.line_maps`` giving each record's source line. Blank lines
    are skipped, and so are rows that fail the target's ``when``/``unless`` filter (e.g. calls without a rating
    for ``surveys``); a target with no rows still gets an empty file. Values that do not parse (timestamp,
    duration) are written raw, never raised, so the loader quarantines them with file, line and field.
    Raises ProfileHeaderError when the header lacks a column the profile reads, and ForeignFileError when
    the file cannot be read as CSV at all (e.g. a row with more fields than the header). ``sample`` > 0 reads
    only the first rows (``profile check``).
    """
    from .assembly import assemble  # the shapes of rows (several per source row, groups, JSON records)

    src, out_dir = Path(src), Path(out_dir)
    frame, lines = _read_foreign(profile, src, sample)
    rows = _Rows(frame)
    rejections = Rejections(frame.index)
    for rule in profile.reject:
        rejections.add(rows.holds(rule.when, rule.unless), rule.field, rule.reason)
    out_dir.mkdir(parents=True, exist_ok=True)
    converted = Converted({}, len(frame), {})
    for mapping in profile.mappings.values():
        keep = rows.holds(mapping.when, mapping.unless)
        assemble(
            profile, mapping, _Rows(frame[keep]), lines[keep], rejections, out_dir / src.stem, converted,
            lambda table, columns, sub: _TargetEvaluator(profile, table, columns, sub, rejections),
        )  # fmt: skip
    converted.rejected = rejections.by_line(lines)
    return converted


def convert_counted(profile: MappingProfile, src: Path, out_dir: Path) -> tuple[dict[str, Path], int, dict[str, int]]:
    """``convert_file`` as (paths, foreign records, records kept per target)."""
    converted = convert_file(profile, src, out_dir)
    return converted.paths, converted.foreign_rows, converted.kept


def convert(profile: MappingProfile, src: Path, out_dir: Path) -> dict[str, Path]:
    """Convert one foreign file into one canonical CSV per target export (see ``convert_file``)."""
    return convert_file(profile, src, out_dir).paths
