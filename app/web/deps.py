"""Request dependencies: the one database session per request, and the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from app.config import Settings
from app.store import Database
from app.store.groupcommit import GroupCommitter
from app.store.prepared import Connectable, RawConnection, reading, writing

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def records_reading(endpoint: Endpoint) -> Endpoint:
    """Mark a GET endpoint that writes bookkeeping (where a trainee is, time spent reading).

    Its session is a writing one (on SQLite: `BEGIN IMMEDIATE`), like any POST's.
    """
    endpoint.records_reading = True  # type: ignore[attr-defined]
    return endpoint


def _writes(request: Request) -> bool:
    if request.method not in SAFE_METHODS:
        return True
    return bool(getattr(request.scope.get("endpoint"), "records_reading", False))


# SQLAlchemy's default pool for an SQLite file (QueuePool: 5 connections + 10 overflow).
SQLITE_READ_CONNECTIONS = 15


def _gate(request: Request, write: bool) -> anyio.Semaphore:
    """The gate a request queues at, on the event loop, before it takes a database session.

    A request that waits for the database inside a worker thread (for SQLite's one write
    lock, or for a free pooled connection) holds that thread. Under load such waiters fill
    the thread pool, so the request that holds the lock or the connection gets no thread to
    finish in, and everything stalls until a timeout. So a process lets in only as many
    units of work as the database can serve at once (one writer on SQLite, the pool's size
    otherwise), always fewer than the thread pool's 40 threads; the rest wait here, threadless.

    The pool's size, not its overflow too: an overflow connection is closed when it is given
    back, so requests using it steadily would have PostgreSQL start a server process (and
    tear it down) for every few requests, which cost more than half the throughput under load.
    The overflow is left for work outside the gate (commands, background jobs).
    """
    state = request.app.state
    settings: Settings = state.settings
    if settings.is_sqlite:
        name, size = (
            ("sqlite_write_gate", 1) if write else ("sqlite_read_gate", SQLITE_READ_CONNECTIONS)
        )
    else:
        name, size = "pool_gate", min(settings.db_pool_size, 30)
    gate: anyio.Semaphore | None = getattr(state, name, None)
    if gate is None:
        gate = anyio.Semaphore(size)
        setattr(state, name, gate)
    return gate


async def _db(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: committed before the response is sent, or rolled back."""
    database: Database = request.app.state.database
    write = _writes(request)
    async with _gate(request, write):
        # Database.unit_of_work, entered here and left in a worker thread: it commits (or
        # rolls back on an error) and closes in one hop, before the response is sent.
        unit = database.unit_of_work(write=write)
        session = unit.__enter__()
        try:
            yield session
        except BaseException as error:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(unit.__exit__, type(error), error, error.__traceback__)
            raise
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(unit.__exit__, None, None, None)


T = TypeVar("T")
W = TypeVar("W")


async def read_unit(request: Request, work: Callable[[RawConnection], T]) -> T:
    """Run `work` in a read-only transaction on a pooled DB-API connection: for the hottest
    pages, which read through prepared statements (app/store/prepared.py) and so need no ORM
    session (a `DB` session costs two thread hops and about 0.3 ms more).

    On SQLite the work runs right here, on the event loop: a few indexed reads of a local
    file in WAL mode (where readers never wait for the writer) take tens of microseconds,
    less than the hop to a worker thread itself costs, and Python work gains nothing from a
    thread anyway (one interpreter lock). Elsewhere each read is a network round trip, so
    it runs in a worker thread, behind the pool's gate."""
    database: Database = request.app.state.database

    def run() -> T:
        with reading(database.reader) as connection:
            return work(connection)

    if request.app.state.settings.is_sqlite:
        return run()
    async with _gate(request, write=False):
        return await run_in_threadpool(run)


async def write_unit(request: Request, work: Callable[[Connectable], T]) -> T:
    """Run `work` in a writing transaction; returns once that transaction is committed.

    On SQLite the work joins the process's group commit (one transaction and one fsync for
    every write waiting at that moment); elsewhere it runs in a transaction of its own, in a
    worker thread behind the pool's gate. Either way it gets the DB-API connection and writes
    with prepared statements.
    """
    committer: GroupCommitter | None = getattr(request.app.state, "committer", None)
    if committer is not None:
        return await committer.run(work)
    database: Database = request.app.state.database

    def run() -> T:
        with writing(database.writer) as connection:
            return work(connection)

    async with _gate(request, write=True):
        return await run_in_threadpool(run)


async def read_then_write(
    request: Request,
    read: Callable[[RawConnection], tuple[T, W | None]],
    write: Callable[[Connectable, W], None],
) -> T:
    """Read (`read` gives its answer and, if something is to be recorded, what), then record
    it with `write`; returns once that is committed. For a page that records its visit.

    On SQLite the read is a `read_unit` (on the event loop, without the write lock) and the
    write joins the group commit. Elsewhere both run in one transaction, in one worker
    thread: every statement, BEGIN and COMMIT included, is a round trip to the server, and
    two units would cost two more round trips, a second connection and a second thread hop.
    """
    database: Database = request.app.state.database
    if request.app.state.settings.is_sqlite:
        answer, record = await read_unit(request, read)
        if record is not None:
            recorded = record
            await write_unit(request, lambda db: write(db, recorded))
        return answer

    def run() -> T:
        with writing(database.writer) as connection:
            answer, record = read(connection)
            if record is not None:
                write(connection, record)
            return answer

    async with _gate(request, write=True):
        return await run_in_threadpool(run)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DB = Annotated[Session, Depends(_db, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]


async def _form(request: Request) -> FormData:
    # Parsed on the event loop, so that a plain `def` endpoint gets its fields without
    # awaiting; Starlette keeps the parsed form, so the CSRF check reads the same one.
    return await request.form()


FormFields = Annotated[FormData, Depends(_form)]
