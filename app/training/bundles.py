"""Curriculum bundles: a zip of the repository layout, checked in full before anything is
written, then extracted into a fresh folder (never over existing files).

A bundle is hostile until proven otherwise (course restore is where LMSs get broken into):
paths that escape the folder, links and special files, encrypted entries, zip bombs and
oversized bundles are all refused with a message, and nothing is written.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath

MAX_COMPRESSED_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 2000
MAX_RATIO = 100  # uncompressed / compressed, for entries over 1 MB: more is a zip bomb
CONTENT_FOLDERS = ("curriculum", "modules", "assessments", "certificates")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 64 * 1024


class BundleError(ValueError):
    """The bundle was refused; the message says why and what to do."""


class BundleTooLarge(BundleError):
    """The bundle is over a size or file-count limit."""


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    relative: PurePosixPath  # below the bundle root, inside one of CONTENT_FOLDERS


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _check_name(name: str) -> PurePosixPath:
    if "\\" in name:
        raise BundleError(f"“{name}”: backslashes are not allowed in bundle paths.")
    if name.startswith("/") or _DRIVE.match(name):
        raise BundleError(f"“{name}”: absolute paths are not allowed in a bundle.")
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise BundleError("A file name in the bundle contains control characters.")
    parts = name.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise BundleError(f"“{name}”: paths with “..”, “.” or empty parts are not allowed.")
    return PurePosixPath(*parts)


def _check_type(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise BundleError(f"“{info.filename}” is a symbolic link; links are not allowed.")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise BundleError(
            f"“{info.filename}” is a special file; only files and folders are allowed."
        )
    if info.flag_bits & 0x1:
        raise BundleError(f"“{info.filename}” is encrypted; upload an unencrypted zip.")


def _entries(archive: zipfile.ZipFile) -> list[_Entry]:
    infos = archive.infolist()
    if len(infos) > MAX_FILES:
        raise BundleTooLarge(
            f"The bundle has {len(infos)} entries; at most {MAX_FILES} are allowed."
        )
    checked = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        path = _check_name(info.filename)
        _check_type(info)
        key = str(path).lower()
        if key in seen and not info.is_dir():
            raise BundleError(f"“{info.filename}” appears twice in the bundle.")
        seen.add(key)
        if info.is_dir():
            continue
        if info.file_size > MAX_FILE_BYTES:
            raise BundleTooLarge(
                f"“{info.filename}” is {_mb(info.file_size)}; each file can be at most "
                f"{_mb(MAX_FILE_BYTES)}."
            )
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BundleTooLarge(
                f"“{info.filename}” expands more than {MAX_RATIO} times: this looks like a zip bomb."
            )
        total += info.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise BundleTooLarge(
                f"The bundle expands to more than {_mb(MAX_UNCOMPRESSED_BYTES)}; that is the limit."
            )
        checked.append(_Entry(info, path))
    return _below_root(checked)


def _below_root(entries: list[_Entry]) -> list[_Entry]:
    """The content files, allowing the whole layout to sit in one top-level folder."""
    tops = {e.relative.parts[0] for e in entries}
    if not tops & set(CONTENT_FOLDERS) and len(tops) == 1:
        entries = [
            _Entry(e.info, PurePosixPath(*e.relative.parts[1:]))
            for e in entries
            if len(e.relative.parts) > 1
        ]
    content = [
        e for e in entries if e.relative.parts[0] in CONTENT_FOLDERS and len(e.relative.parts) > 1
    ]
    if not any(e.relative.parts[0] == "curriculum" for e in content):
        raise BundleError(
            "The bundle has no curriculum/ folder. Zip the folder that holds curriculum/, "
            "modules/, assessments/ and certificates/."
        )
    return content


def read_bundle(data: bytes) -> list[_Entry]:
    """Check a bundle completely (names, types, sizes) without writing anything."""
    if len(data) > MAX_COMPRESSED_BYTES:
        raise BundleTooLarge(
            f"The bundle is {_mb(len(data))}; a bundle can be at most {_mb(MAX_COMPRESSED_BYTES)}."
        )
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return _entries(archive)
    except zipfile.BadZipFile:
        raise BundleError(
            "This file is not a zip archive. Upload a .zip of the curriculum."
        ) from None


def extract_bundle(data: bytes, parent: Path) -> Path:
    """Check the bundle, then extract its content into a new folder under `parent`.

    On any problem the new folder is removed and BundleError raised: nothing is left behind.
    """
    entries = read_bundle(data)
    parent.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="bundle-", dir=parent))
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            written = 0
            for entry in entries:
                destination = target.joinpath(*entry.relative.parts)
                if not destination.resolve().is_relative_to(target.resolve()):
                    raise BundleError(f"“{entry.info.filename}” points outside the bundle.")
                destination.parent.mkdir(parents=True, exist_ok=True)
                written += _copy_entry(archive, entry.info, destination)
                if written > MAX_UNCOMPRESSED_BYTES:
                    raise BundleTooLarge(
                        f"The bundle expands to more than {_mb(MAX_UNCOMPRESSED_BYTES)}."
                    )
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _copy_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path) -> int:
    """Write one entry (a new file, never following links), counting the real bytes."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    handle = os.open(destination, flags, 0o644)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out, archive.open(info) as source:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > min(info.file_size, MAX_FILE_BYTES):
                    raise BundleError(
                        f"“{info.filename}” is larger than the archive says: refusing it."
                    )
                out.write(chunk)
    except zipfile.BadZipFile as error:
        raise BundleError(f"“{info.filename}” is damaged ({error}).") from None
    return size


def copy_sources(source: Path, parent: Path) -> Path:
    """Copy a curriculum's content folders into a new folder under `parent`."""
    parent.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="copy-", dir=parent))
    try:
        for folder in CONTENT_FOLDERS:
            if (source / folder).is_dir():
                shutil.copytree(source / folder, target / folder, symlinks=True)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target
