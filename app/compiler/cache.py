"""An on-disk cache of compiled pages, keyed by the hash of everything a page depends on."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class PageCache:
    """`get(key)` / `put(key, data)`; a missing or unreadable entry is simply a miss.

    Besides one file per page, the cache keeps a snapshot of the last build (its compiled
    modules and what it knew of each file) in one file: reading one file instead of thousands
    is what makes a rebuild after a small change fast. The snapshot is only an accelerator;
    every entry in it is found by a key over its inputs."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = None if directory is None else os.path.join(directory, "pages")

    def get(self, key: str) -> bytes | None:
        if self.directory is None:
            return None
        try:
            with open(os.path.join(self.directory, key[:2], f"{key}.json"), "rb") as stream:
                return stream.read()
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        if self.directory is None:
            return
        folder = os.path.join(self.directory, key[:2])
        with contextlib.suppress(OSError):
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, os.path.join(folder, f"{key}.json"))

    def get_snapshot(self, name: str) -> bytes | None:
        if self.directory is None:
            return None
        try:
            with open(os.path.join(self.directory, f"{name}.snapshot.json"), "rb") as stream:
                return stream.read()
        except OSError:
            return None

    def put_snapshot(self, name: str, data: bytes) -> None:
        if self.directory is None:
            return
        with contextlib.suppress(OSError):
            os.makedirs(self.directory, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, os.path.join(self.directory, f"{name}.snapshot.json"))
