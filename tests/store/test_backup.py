"""`peerpath backup`: an online copy of a live SQLite database that passes its integrity check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from app.store import Database, ReleaseRecord
from app.store.backup import BackupError, backup_sqlite
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite backups only")


def test_backup_of_a_live_database_holds_the_published_release(
    db: Database, settings, tmp_path: Path
) -> None:
    with db.unit_of_work(write=False) as session:
        published = session.scalars(select(ReleaseRecord.content_hash)).all()
    copy = backup_sqlite(settings.database_url, tmp_path / "backup.db")
    rows = sqlite3.connect(copy).execute("SELECT content_hash FROM releases").fetchall()
    assert [r[0] for r in rows] == published and published


def test_backup_refuses_to_overwrite_an_existing_file(
    db: Database, settings, tmp_path: Path
) -> None:
    existing = tmp_path / "old.db"
    existing.write_text("keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(settings.database_url, existing)
    assert existing.read_text() == "keep me"


def test_backup_explains_that_postgresql_uses_pg_dump(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        backup_sqlite("postgresql://postgres@127.0.0.1/test", tmp_path / "x.db")
