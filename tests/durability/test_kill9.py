"""A SIGKILL during concurrent progress writes loses no acknowledged write (bench/durability.py).

Runs against a real `peerpath serve` on 127.0.0.1: on SQLite in the SQLite test run, on a
fresh PostgreSQL database in the PostgreSQL one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.durability import run_durability
from bench.harness import drop_postgres_database, fresh_postgres_database
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.durability


@pytest.fixture
def crash_database_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    if ON_POSTGRES:
        url = fresh_postgres_database()
        yield url
        drop_postgres_database(url)
    else:
        yield f"sqlite:///{tmp_path}/crash.db"
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_every_acknowledged_progress_write_survives_sigkill(crash_database_url: str) -> None:
    result = run_durability(crash_database_url, trainees=4, writers_per_trainee=4, kill_after=3)
    print(result.summary())
    assert len(result.acknowledged) >= 20, result.summary()
    assert result.after_restart_status == 200
    assert not result.missing_keys, result.missing_keys[:5]
    assert not result.missing_completions, result.missing_completions[:5]
    assert not result.short_seconds, result.short_seconds[:5]
    assert result.integrity in ("ok", "n/a (PostgreSQL)")
