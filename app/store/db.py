"""Engines and sessions.

SQLite gets the durability settings of docs/deployment.md: WAL, synchronous=FULL, foreign keys,
a busy timeout, and explicit transactions (the pysqlite driver's own are unreliable), with
`BEGIN IMMEDIATE` for sessions that will write so they queue for the lock instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


# A pooled PostgreSQL connection that sat unused this long is checked with a round trip before
# use (it may have been closed by a server restart or a firewall meanwhile).
IDLE_PING_AFTER = 1.0  # seconds


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip per checkout.

    `pool_pre_ping` pings on every checkout: under load that is a round trip more for every
    unit of work. A connection in steady use proves itself alive by being used; so only one
    that was idle for `IDLE_PING_AFTER` seconds is pinged, and if the ping fails the pool
    replaces it (raising `DisconnectionError` from a checkout listener makes the pool retry
    with a new connection). A restart of the server takes longer than that, so a connection
    that lived through one is always checked; one that breaks while in use fails its unit of
    work, as it would with `pool_pre_ping`.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("the pooled connection is gone") from error


@dataclass
class Database:
    """The engines of one deployment: `reader` for requests that only read, `writer` for the rest."""

    reader: Engine
    writer: Engine

    def __post_init__(self) -> None:
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)

    def session(self, *, write: bool = True) -> Session:
        return (self._write_sessions if write else self._read_sessions)()

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: commit when the block ends normally, roll back on any error."""
        session = self.session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()


def connect(settings: Settings) -> Database:
    """Open the database named by the settings (creating SQLite's folder if needed)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return Database(
            reader=_sqlite_engine(settings.database_url, immediate=False),
            writer=_sqlite_engine(settings.database_url, immediate=True),
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    _ping_when_idle(engine)
    return Database(reader=engine, writer=engine)
