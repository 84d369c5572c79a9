"""Online backups of an SQLite database (PostgreSQL deployments use pg_dump; see docs/deployment.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup could not be made or did not verify."""


def backup_sqlite(database_url: str, destination: Path) -> Path:
    """Copy a live SQLite database with the online backup API, then check the copy's integrity.

    Never `cp` a live database: a plain copy can catch it mid-write and misses the WAL.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError(
            "peerpath backup copies SQLite databases; for PostgreSQL use pg_dump "
            "(see docs/deployment.md)"
        )
    source_path = Path(url.database)
    if not source_path.exists():
        raise BackupError(f"there is no database at {source_path}")
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
        (result,) = target.execute("PRAGMA integrity_check").fetchone()
    finally:
        target.close()
        source.close()
    if result != "ok":
        destination.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {result}")
    return destination
