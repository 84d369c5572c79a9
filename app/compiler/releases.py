"""Releases on disk: deterministic bytes, written atomically, loaded back."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from app.compiler.models import Release

RELEASE_FILE = "release.json"


def release_to_bytes(release: Release) -> bytes:
    """The release as JSON: the same release always gives the same bytes."""
    return release.model_dump_json().encode("utf-8")


def release_from_bytes(data: bytes) -> Release:
    """A release back from `release_to_bytes` output."""
    return Release.model_validate_json(data)


def write_release(release: Release, out_root: Path) -> Path:
    """Write to out_root/<programme>/<version>-<hash12>/ atomically; an existing one is kept."""
    parent = Path(out_root) / release.programme.id
    target = parent / f"{release.version}-{release.content_hash[:12]}"
    if (target / RELEASE_FILE).is_file():
        return target
    parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=".incoming-", dir=parent))
    try:
        with open(temporary / RELEASE_FILE, "wb") as stream:
            stream.write(release_to_bytes(release))
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.rename(temporary, target)
        except OSError:
            if not (target / RELEASE_FILE).is_file():
                raise
        else:
            with contextlib.suppress(OSError):
                directory = os.open(parent, os.O_RDONLY)
                os.fsync(directory)
                os.close(directory)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
    return target


def load_release(path: Path) -> Release:
    """Load a release from its folder or its release.json."""
    path = Path(path)
    if path.is_dir():
        path = path / RELEASE_FILE
    return release_from_bytes(path.read_bytes())
