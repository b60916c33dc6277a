"""The Python pass over a file: decompression, UTF-8 decoding (with the first bad byte's line and field), the CSV
header, record boundaries and physical line numbers, and the record size limit. It writes a clean copy (CSV) or
stages the lines (JSON Lines) for DuckDB, which parses and checks the values (rules.py)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import duckdb

from .common import MAX_RECORD_BYTES_ENV, RAW_RECORD_KEEP, SOURCE_LINE, max_record_bytes
from .landing import compression_of
from .sources import RawTable

JSONL_BATCH = 20_000
JSONL_BATCH_CHARS = 64 * 1024 * 1024
# Larger JSON Lines files are read line by line, as a stream (the fast path holds the file, its text and its lines).
JSONL_FAST_MAX_BYTES = 64 * 1024 * 1024


class RefusedFileError(ValueError):
    """A whole file was refused (header mismatch, unreadable document)."""


def _clip(text: str) -> str:
    return text if len(text) <= RAW_RECORD_KEEP else f"{text[:RAW_RECORD_KEEP]}... ({len(text)} characters)"


def _open_binary(path: Path) -> IO[bytes]:
    compression = compression_of(path)
    if compression == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if compression == "zstd":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            raise RefusedFileError(
                f"{path}: zstd-compressed, and this installation has no zstd decoder (Python package "
                "'zstandard'): deliver it uncompressed or gzip-compressed (.gz)"
            ) from None
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True))
    return path.open("rb")


def _decode_error(path: Path, origin: str, header: list[str] | None) -> str:
    """Where the first byte that is not UTF-8 sits: line (1-based), field (CSV) and byte offset."""
    offset, line, tail = 0, 1, b""
    with _open_binary(path) as handle:
        carry = b""
        while chunk := handle.read(1 << 20):
            data = carry + chunk
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
                    good, carry = data[: exc.start], data[exc.start :]
                else:
                    good = data[: exc.start]
                    line += good.count(b"\n")
                    tail = (tail + good).rsplit(b"\n", 1)[-1]
                    byte, at = data[exc.start], offset + exc.start
                    break
            else:
                good, carry = data, b""
            line += good.count(b"\n")
            tail = (tail + good).rsplit(b"\n", 1)[-1][-RAW_RECORD_KEEP:]
            offset += len(good)
        else:
            # Only an incomplete sequence at the very end (a Latin-1 file ending in 'é', say), or nothing.
            if not carry:
                return f"{origin}: not UTF-8 text"
            byte, at = carry[0], offset
    where = f"line {line}"
    if header is None and line > 1:
        # Python decodes ahead of the parser: the error may surface while the header is being read.
        with _open_binary(path) as handle:
            header = next(csv.reader([handle.readline().decode("utf-8", "replace").strip()]), [])
    # The field is counted on the line's text before the bad byte (a quoted newline before it would shift it).
    fields = next(csv.reader([tail.decode("utf-8", "replace")]), [])
    index = max(len(fields) - 1, 0)
    name = header[index].strip() if header and index < len(header) else str(index + 1)
    where += f", field '{name}'" if line > 1 else f", field {index + 1} of the header"
    return (
        f"{origin}: not UTF-8 text: byte 0x{byte:02x} at {where} (byte {at} of the file) cannot be decoded; "
        "re-export the file as UTF-8, or load it through a mapping profile that declares its encoding "
        "(encoding: latin-1)"
    )


# ------------------------------------------------------------------------------------------- CSV


def read_header(path: Path) -> list[str]:
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def check_header(path: Path | str, table: RawTable, extra: Iterable[str] = (), header: list[str] | None = None) -> None:
    header = [h.strip() for h in (read_header(Path(path)) if header is None else header)]
    expected = table.column_names + list(extra)
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    repeated = list(dict.fromkeys(c for i, c in enumerate(header) if c in header[:i]))
    if missing or unexpected or repeated or header != expected:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if unexpected:
            parts.append(f"unexpected columns {unexpected}")
        if repeated:
            parts.append(f"repeated columns {repeated}")
        if not parts:
            parts.append(f"columns out of order, expected {expected}")
        raise RefusedFileError(f"{path}: header (line 1) does not match export '{table.name}': {'; '.join(parts)}")


class _RecordLines:
    """The physical lines of a text stream, keeping those of the record being parsed (its raw text)."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.current: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        self.current.append(line)
        return line

    def take(self) -> str:
        text, self.current = "".join(self.current), []
        return text


def _cut_field(raw: str, names: list[str]) -> str:
    """The field a malformed record breaks in: the last one a lenient parser reaches. The text is cut to the
    reader's field size limit, so an over-long field ends the prefix and is the one named."""
    try:
        fields = next(csv.reader(io.StringIO(raw[: csv.field_size_limit()], newline="")), [""])
    except csv.Error:
        return "*"
    index = max(len(fields) - 1, 0)
    return names[index] if index < len(names) else "*"


def _scan_csv(path: Path, origin: str, table: RawTable, out: Path) -> tuple[int, list[tuple], bool]:
    """Read a CSV once with Python's reader: check its header, write the well-formed records to ``out`` (with
    ``_line``, the physical line where each starts, or the ``_source_line`` a profile wrote) and return
    (records read, malformed records as (line, field, reason, raw), whether the file had ``_source_line``)."""
    limit = max_record_bytes()
    previous_limit = csv.field_size_limit(limit)
    bad: list[tuple] = []
    records = 0
    header: list[str] | None = None
    try:
        with (
            _open_binary(path) as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
            out.open("w", encoding="utf-8", newline="") as sink,
        ):
            lines = _RecordLines(text)
            reader = csv.reader(lines, strict=True)
            try:
                header = [h.strip() for h in next(reader, [])]
            except csv.Error as exc:
                raise RefusedFileError(f"{origin}: the header (line 1) is not valid CSV: {exc}") from None
            lines.take()
            has_line_column = SOURCE_LINE in header
            check_header(origin, table, [SOURCE_LINE] if has_line_column else [], header)
            width, names = len(header), table.column_names
            writer = csv.writer(sink, lineterminator="\n")
            writer.writerow(header if has_line_column else [*header, "_line"])
            previous_end = reader.line_num
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    start, previous_end = previous_end + 1, reader.line_num
                    raw_text = lines.take()
                    reason = f"malformed CSV: {exc}"
                    if "field larger than field limit" in str(exc):
                        reason = f"a field is longer than the maximum of {limit} characters ({MAX_RECORD_BYTES_ENV})"
                    bad.append((start, _cut_field(raw_text, names), reason, _clip(raw_text)))
                    records += 1
                    continue
                # The reader yields [] for a blank line: line numbers count it, records do not.
                start, previous_end = previous_end + 1, reader.line_num
                if len(row) == width:
                    lines.current = []
                    records += 1
                    writer.writerow(row if has_line_column else [*row, start])
                    continue
                raw_text = lines.take()
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                records += 1
                found = f"{len(row)} fields, expected {width}"
                field_name = names[len(row)] if len(row) < len(names) else "*"
                bad.append((start, field_name, f"wrong number of fields: {found}", _clip(raw_text.rstrip("\r\n"))))
    except UnicodeDecodeError:
        raise RefusedFileError(_decode_error(path, origin, header)) from None
    finally:
        csv.field_size_limit(previous_limit)
    return records, bad, has_line_column


# ----------------------------------------------------------------------------------------- JSON Lines


def _physical_lines(path: Path, limit: int) -> Iterator[tuple[int, bytes | None, bytes, int]]:
    """(line number, content or None when longer than ``limit``, its first bytes, its length) per physical
    line. A long line is read in pieces and never held whole: memory stays bounded by ``limit``."""
    with _open_binary(path) as handle:
        number = 0
        while line := handle.readline(limit + 3):
            number += 1
            if line.endswith(b"\n") or len(line) < limit + 3:
                content = line.rstrip(b"\r\n")
                whole = content if len(content) <= limit else None
                yield number, whole, content[:RAW_RECORD_KEEP], len(content)
                continue
            head, length = line[:RAW_RECORD_KEEP], len(line)
            while not line.endswith(b"\n"):
                line = handle.readline(1 << 20)
                if not line:
                    break
                length += len(line)
            yield number, None, head, length - (1 if line.endswith(b"\n") else 0)


def plain_jsonl(path: Path, limit: int) -> tuple[list[int], list[str]] | None:
    """The line numbers and texts of the file's non-blank lines when the fast path applies, else None: the file
    (decompressed) is at most ``JSONL_FAST_MAX_BYTES``, has no carriage return, NUL or leading byte order mark, is
    UTF-8, and no line is longer than ``limit`` bytes. Such a file's lines are exactly what ``_physical_lines``
    and the decoding below give, line by line (a newline is one byte that no other UTF-8 character contains), so
    the checks and the split run over the whole file at C speed instead of once per line in Python. Every other
    file is read line by line, which finds and explains its over-long lines and bad bytes as before."""
    with _open_binary(path) as handle:
        data = handle.read(JSONL_FAST_MAX_BYTES + 1)
    if not data or len(data) > JSONL_FAST_MAX_BYTES or data.startswith(b"\xef\xbb\xbf"):
        return None
    if b"\r" in data or b"\x00" in data:
        return None
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()  # the newline ending the last line
    if not pieces or max(map(len, pieces)) > limit:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    del data, pieces
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if all(map(str.strip, lines)):
        return list(range(1, len(lines) + 1)), lines
    kept = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    return [number for number, _ in kept], [line for _, line in kept]


def _stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path, origin: str) -> int:
    """Fill ``_lines(_line, raw_record)`` and ``_bad`` (over-long lines); return the records read."""
    limit = max_record_bytes()
    con.execute("create or replace temp table _bad (_line bigint, field varchar, reason varchar, raw_record varchar)")
    plain = plain_jsonl(path, limit)
    if plain is not None:
        import pyarrow as pa

        # One Arrow table handed over whole: a Python list of strings converted by DuckDB cost as much as the
        # line loop itself (issue 22).
        arrow = pa.table({"_line": pa.array(plain[0], pa.int64()), "raw_record": pa.array(plain[1], pa.string())})
        con.register("_lines_arrow", arrow)
        try:
            con.execute("create or replace temp table _lines as select _line, raw_record from _lines_arrow")
        finally:
            con.unregister("_lines_arrow")
        return len(plain[0])
    con.execute("create or replace temp table _lines (_line bigint, raw_record varchar)")
    numbers: list[int] = []
    texts: list[str] = []
    pending = [0]  # characters waiting in texts: a batch is bounded in bytes too, as lines may be long
    records = 0

    def flush() -> None:
        if numbers:
            con.execute("insert into _lines select unnest(?), unnest(?)", [numbers, texts])
            numbers.clear()
            texts.clear()
            pending[0] = 0

    for number, content, head, length in _physical_lines(path, limit):
        if content is None:
            records += 1
            reason = f"line of {length} bytes, longer than the maximum record size of {limit} ({MAX_RECORD_BYTES_ENV})"
            con.execute(
                "insert into _bad values (?, '*', ?, ?)", [number, reason, _clip(head.decode("utf-8", "replace"))]
            )
            continue
        try:
            text = content.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise RefusedFileError(
                f"{origin}: not UTF-8 text: byte 0x{content[exc.start]:02x} at line {number}, byte {exc.start + 1} "
                "of the line, cannot be decoded; re-export the file as UTF-8"
            ) from None
        if not text.strip():
            continue
        records += 1
        numbers.append(number)
        texts.append(text)
        pending[0] += len(text)
        if len(numbers) >= JSONL_BATCH or pending[0] >= JSONL_BATCH_CHARS:
            flush()
    flush()
    return records
