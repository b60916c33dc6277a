"""The landing folder: which files each export and mapping profile reads (name patterns in any letter case,
compressed or not, files still being written left out), whether a landed file may be read now (settled, not a
link leaving the folder), and the files nothing reads. The loader and the landing sensor both find files here."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from .common import SETTLE_SECONDS_ENV
from .profiles import MappingProfile, ProfileError, discover_profiles
from .sources import EXPORTS, Export

COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
# Names that writers use while a file is incomplete: never read, never recorded, reported as unsettled.
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart", ".download")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _marker_sha(kind: str, path: Path) -> str:
    """A stand-in hash for a file that is not read (a link out of the landing folder, an unreadable file)."""
    target = os.readlink(path) if path.is_symlink() else ""
    return hashlib.sha256(f"{kind}:{path}->{target}".encode()).hexdigest()


def compression_of(path: Path) -> str | None:
    return COMPRESSIONS.get(path.suffix.lower())


def _in_progress(name: str) -> bool:
    return name.lower().endswith(IN_PROGRESS_SUFFIXES)


def matches(name: str, patterns: Iterable[str]) -> bool:
    """A file name matches an export's patterns in any letter case, compressed (.gz, .zst) or not."""
    lower = name.lower()
    for suffix in COMPRESSIONS:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
            break
    return any(fnmatch.fnmatchcase(lower, pattern.lower()) for pattern in patterns)


def _folder_files(folder: Path, patterns: Iterable[str]) -> list[Path]:
    if not folder.is_dir():
        return []
    patterns = list(patterns)
    files = [
        p
        for p in folder.iterdir()
        if (p.is_file() or p.is_symlink()) and not p.is_dir() and not _in_progress(p.name) and matches(p.name, patterns)
    ]
    # Name order is delivery order for the generator's and most vendors' file names (date-stamped).
    return sorted(files)


def export_files(landing: Path, export: Export) -> list[Path]:
    return _folder_files(landing / export.name, export.file_patterns)


def profile_files(landing: Path, profile: MappingProfile) -> list[Path]:
    """The files a mapping profile reads, by the same rules as an export's."""
    return _folder_files(landing / profile.folder, profile.file_patterns)


def _readable_profiles(profiles_dir: Path | None) -> list[MappingProfile] | None:
    """The mapping profiles; None when they cannot be read (the loads report the profile error, with its file)."""
    if profiles_dir is None or not profiles_dir.is_dir():
        return []
    try:
        return discover_profiles(profiles_dir)
    except ProfileError:
        return None


def readable_files(landing: Path, profiles_dir: Path | None) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """Every file the loaders read, with the exports its rows load into (several for a mapping profile): the
    export folders', then the mapping profiles' (none when the profiles cannot be read)."""
    for export in EXPORTS:
        for path in export_files(landing, export):
            yield path, (export.name,)
    for profile in _readable_profiles(profiles_dir) or []:
        for path in profile_files(landing, profile):
            yield path, tuple(profile.targets)


def _admit(path: Path, landing: Path, settle: float) -> tuple[str, str] | None:
    """Why a landed file is not read now: ('refused', reason) for a link leaving the landing folder,
    ('unsettled', reason) for a file still being written; None when it may be read."""
    # The resolved path, not only the file's own link: a linked export folder could lead outside too.
    target = Path(os.path.realpath(path))
    root = Path(os.path.realpath(landing))
    if not target.is_relative_to(root):
        return "refused", f"{path}: a symbolic link to {target}, outside the landing folder {root}: not read"
    if not target.is_file():
        return "refused", f"{path}: a symbolic link to {target}, which is not a file"
    age = time.time() - path.stat().st_mtime
    if age < settle:
        return "unsettled", (
            f"{path}: modified {age:.1f} s ago; read once unchanged for {settle:g} s ({SETTLE_SECONDS_ENV}): next run"
        )
    return None


def _read_folders(landing: Path, profiles_dir: Path | None) -> dict[str, tuple[str, list[str]]] | None:
    """Landing subfolders that are read: folder -> (what reads it, its file patterns). None when the mapping
    profiles cannot be read (their folders are then not judged: the profile error is reported by the loads)."""
    profiles = _readable_profiles(profiles_dir)
    if profiles is None:
        return None
    folders = {e.name: (f"export '{e.name}'", list(e.file_patterns)) for e in EXPORTS}
    for profile in profiles:
        folders[profile.folder] = (f"mapping profile '{profile.name}'", profile.file_patterns)
    return folders


def unread_files(landing: Path, profiles_dir: Path | None) -> Iterator[tuple[str, Path, str]]:
    """(export label, path, reason) of every file in the landing folder that no export or profile reads."""
    folders = _read_folders(landing, profiles_dir)
    if folders is None or not landing.is_dir():
        return
    for root, dirs, files in os.walk(landing, followlinks=False):
        here = Path(root)
        relative = here.relative_to(landing).parts
        top = relative[0] if relative else ""
        linked_dirs = [d for d in dirs if (here / d).is_symlink()]
        for name in sorted([*files, *linked_dirs]):
            path = here / name
            if _in_progress(name):
                continue
            if (here / name).is_dir():
                if not relative and name in folders:
                    continue  # a linked export folder: its files are read, each refused if it leads outside
                yield top, path, f"{path}: symbolic link to a folder: not followed"
            elif not relative:
                yield "", path, f"{path}: not in an export folder (<landing>/<export>/<file>): not read"
            elif len(relative) > 1:
                yield top, path, f"{path}: in a nested folder: files are read from <landing>/<export>/ only"
            elif top not in folders:
                yield top, path, f"{path}: folder '{top}' belongs to no export and no mapping profile: not read"
            elif not matches(name, folders[top][1]):
                patterns = ", ".join(folders[top][1])
                yield (
                    top,
                    path,
                    (
                        f"{path}: does not match the file names of {folders[top][0]} ({patterns}; any letter case, "
                        "optionally .gz or .zst): not read"
                    ),
                )
