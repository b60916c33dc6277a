"""The sha256 of landed files, remembered by path and file status, so that a night hashes its new files only.

A file's sha256 is its identity in the ledger (a file already loaded is skipped by it). Hashing every landed file
each night read the whole history's exports (664 MiB at 120 days of the medium volume, against 191 MiB at 30) to
skip all but the night's files; the sensor did the same on every tick. ``raw._file_hashes`` remembers, per path, the
hash computed and the file's status when it was computed: size, modification time, change time and inode (all in
nanoseconds where they are times). A file whose status is unchanged is not read again. The change time cannot be set
by a user tool (``touch`` sets the modification time, and doing so changes the change time), and any write, rename
onto the path or copy changes it: a file rewritten in place, even with its old size and modification time, is
hashed again. The table is a memo, never data: dropping it only costs one night's hashing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .common import RAW_SCHEMA
from .landing import sha256_of

FILE_HASHES = f"{RAW_SCHEMA}._file_hashes"
Status = tuple[int, int, int, int]


def file_status(path: Path) -> Status:
    """Size, modification and change times (ns) and inode of the file ``path`` leads to."""
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def ensure_file_hashes(con: Any) -> None:
    con.execute(
        f"""create table if not exists {FILE_HASHES} (file_path varchar, file_bytes bigint, mtime_ns bigint,
            ctime_ns bigint, inode ubigint, file_sha256 varchar, hashed_at timestamp)"""
    )


class FileHashes:
    """The remembered hashes (read once), and the files hashed since (written by ``save``)."""

    def __init__(self, known: dict[str, tuple[Status, str]] | None = None) -> None:
        self.known = known or {}
        self.new: dict[str, tuple[Status, str]] = {}

    @classmethod
    def read(cls, con: Any) -> FileHashes:
        """The table's hashes; none when the table does not exist (a warehouse of an older version, or none)."""
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, FILE_HASHES.split(".", 1)[1]],
        ).fetchone()[0]
        if not exists:
            return cls()
        rows = con.execute(
            f"select file_path, file_bytes, mtime_ns, ctime_ns, inode, file_sha256 from {FILE_HASHES}"
        ).fetchall()
        return cls({path: ((size, mtime, ctime, inode), sha) for path, size, mtime, ctime, inode, sha in rows})

    def sha256(self, path: Path) -> str:
        """The file's sha256: remembered when its status is the one it was hashed with, else read and hashed."""
        before = file_status(path)
        remembered = self.known.get(str(path))
        if remembered is not None and remembered[0] == before:
            return remembered[1]
        sha = sha256_of(path)
        if file_status(path) == before:  # changed while it was read: the hash is of no one version, not kept
            self.new[str(path)] = (before, sha)
            self.known[str(path)] = (before, sha)
        return sha

    def save(self, con: Any) -> int:
        """Remember the files hashed since ``read`` (one row per path, the newest). Returns the rows written."""
        if not self.new:
            return 0
        ensure_file_hashes(con)
        items = sorted(self.new.items())
        paths = [path for path, _ in items]
        columns = [paths, *([status[i] for _, (status, _) in items] for i in range(4)), [sha for _, (_, sha) in items]]
        con.execute("begin transaction")
        try:
            con.execute(f"delete from {FILE_HASHES} where file_path in (select unnest(?::varchar[]))", [paths])
            # One statement for all rows (the first night of an older warehouse remembers its whole landing folder).
            con.execute(
                f"""insert into {FILE_HASHES} select unnest(?::varchar[]), unnest(?::bigint[]), unnest(?::bigint[]),
                    unnest(?::bigint[]), unnest(?::ubigint[]), unnest(?::varchar[]), now()::timestamp""",
                columns,
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        self.new.clear()
        return len(items)
