"""The CSV fast path: a file with no quote, carriage return, NUL, byte order mark or blank line, whose every line
has the header's number of fields and is shorter than the record size limit, is one record per physical line split
at each comma. Python's csv reader (scan.py) would read exactly that, so DuckDB may read it directly: the Python
pass per record (reader, line tracking, clean copy written row by row) was most of a CSV file's load, ~10x the time
DuckDB needs to read it (issue 22).

The checks run over the whole text at C speed (decode, ``in``, ``str.count`` and ``len`` mapped over the lines).
A file that fails any of them, or is larger than ``FAST_MAX_BYTES``, takes the record-by-record path, which finds
and explains its malformed records as before; only a header that does not match is refused here, with the same
message. The bytes checked are the bytes DuckDB reads (written to the caller's temporary file), so a file changed
in between cannot slip unchecked rows in.
"""

from __future__ import annotations

from itertools import repeat
from pathlib import Path

from .common import SOURCE_LINE, max_record_bytes
from .scan import _open_binary, check_header
from .sources import RawTable

# Larger files are read record by record, as a stream: memory stays bounded (the fast path holds the file's bytes,
# its text and its lines at once, ~3x the size for ASCII).
FAST_MAX_BYTES = 64 * 1024 * 1024
_UNSAFE = (b'"', b"\r", b"\x00", b"\xef\xbb\xbf")


def plain_csv(path: Path, origin: str, table: RawTable) -> tuple[bytes, int] | None:
    """The file's (decompressed) bytes and its number of records when the fast path applies, else None. Raises
    RefusedFileError (scan.check_header) when the header does not match the export's columns."""
    with _open_binary(path) as handle:
        data = handle.read(FAST_MAX_BYTES + 1)
    if not data or len(data) > FAST_MAX_BYTES or any(marker in data for marker in _UNSAFE):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None  # the record-by-record path names the line and field of the first bad byte
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline ending the last line
    if not lines:
        return None
    header = [name.strip() for name in lines[0].split(",")]
    if SOURCE_LINE in header:
        return None  # a mapping profile's conversion: its lines are the foreign file's, read record by record
    check_header(origin, table, [], header)
    if set(map(str.count, lines, repeat(","))) != {len(header) - 1}:
        return None  # a blank line or a record with another number of fields: quarantined with its reason there
    if max(map(len, lines)) > max_record_bytes():
        return None  # a field may exceed the limit: the record-by-record path quarantines it
    return data, len(lines) - 1
