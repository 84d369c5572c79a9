"""A write now and then purges its writer's expired idempotency keys; the purge finds them by one
range scan of the (user_id, created_at) index, on SQLite and on PostgreSQL, so its cost
follows the expired keys rather than all of the user's keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.learning.idempotency import _PURGE, RETENTION, purge_expired
from app.store import Database, connect
from app.store.accounts import User
from app.store.base import utcnow
from app.store.learning import IdempotencyRecord
from app.store.migrate import downgrade, upgrade
from tests.conftest import ON_POSTGRES, _postgres_url

NEW_INDEX = "ix_idempotency_keys_user_id_created_at"
OLD_INDEX = "ix_idempotency_keys_created_at"


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (a new SQLite file, or a new PostgreSQL schema)."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"pp_migration_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_postgres_url("public"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield _postgres_url(schema)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    found = connect(settings)
    yield found
    found.dispose()


def indexes(connection: Connection) -> dict[str, list[str | None]]:
    return {
        index["name"]: index["column_names"]
        for index in inspect(connection).get_indexes("idempotency_keys")
        if index["name"] is not None
    }


def test_the_purge_index_migration_upgrades_and_downgrades(empty_database: str) -> None:
    database = connect(Settings(database_url=empty_database))
    try:
        with database.writer.connect() as connection:
            upgrade(connection)
            connection.commit()
            assert indexes(connection)[NEW_INDEX] == ["user_id", "created_at"]
            assert OLD_INDEX not in indexes(connection)
            downgrade(connection, "0006")
            connection.commit()
            assert indexes(connection)[OLD_INDEX] == ["created_at"]
            assert NEW_INDEX not in indexes(connection)
            upgrade(connection)
            connection.commit()
            assert indexes(connection)[NEW_INDEX] == ["user_id", "created_at"]
            assert OLD_INDEX not in indexes(connection)
    finally:
        database.dispose()


def purge_plan(session: Session) -> str:
    """What the database's planner says it would do to run the purge exactly as the app does."""
    connection = session.connection()
    compiled = _PURGE._for(connection.dialect)
    values = {"user": 1, "before": (utcnow() - RETENTION).isoformat(sep=" ")}
    if connection.dialect.name == "sqlite":
        assert compiled.positional is not None
        positional = tuple(values[name] for name in compiled.positional)
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.sql}", positional)
        return "\n".join(str(row[-1]) for row in rows)
    # A tiny table is cheapest to read whole; disallowing that shows which index it would use.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled.sql}", values)
    return "\n".join(str(row[0]) for row in rows)


def test_the_purge_is_a_range_scan_of_the_user_and_created_at_index(database: Database) -> None:
    with database.unit_of_work(write=False) as session:
        plan = purge_plan(session)
    assert NEW_INDEX in plan, plan


def user(session: Session, name: str) -> int:
    found = User(email=f"{name}@example.org", display_name=name, role="trainee", password_hash="-")
    session.add(found)
    session.flush()
    return found.id


def keys_of(session: Session, user_id: int) -> set[str]:
    query = select(IdempotencyRecord.idempotency_key).where(IdempotencyRecord.user_id == user_id)
    return set(session.scalars(query))


def test_a_purge_forgets_only_that_users_keys_older_than_the_retention(
    database: Database,
) -> None:
    now = utcnow()
    with database.unit_of_work() as session:
        ana, ben = user(session, "ana"), user(session, "ben")
        for owner in (ana, ben):
            for key, age in [
                ("last-week", timedelta(days=7)),
                ("just-expired", RETENTION + timedelta(minutes=1)),
                ("nearly-expired", RETENTION - timedelta(minutes=1)),
                ("just-now", timedelta(0)),
            ]:
                session.add(
                    IdempotencyRecord(
                        user_id=owner, idempotency_key=key, fingerprint="f", created_at=now - age
                    )
                )

    with database.unit_of_work() as session:
        purge_expired(session, ana)

    with database.unit_of_work(write=False) as session:
        assert keys_of(session, ana) == {"nearly-expired", "just-now"}
        assert keys_of(session, ben) == {"last-week", "just-expired", "nearly-expired", "just-now"}
