"""An on-disk cache of compiled pages, keyed by the hash of everything a page depends on."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class PageCache:
    """`get(key)` / `put(key, data)`; a missing or unreadable entry is simply a miss."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _file(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / "pages" / key[:2] / f"{key}.json"

    def get(self, key: str) -> bytes | None:
        if self.directory is None:
            return None
        try:
            return self._file(key).read_bytes()
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        if self.directory is None:
            return
        target = self._file(key)
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, target)
