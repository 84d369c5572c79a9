"""Request dependencies: the one database session per request, and the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import nullcontext
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.store import Database

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


def _sqlite_write_gate(request: Request) -> anyio.Lock | None:
    """On SQLite, the one lock a process's writing requests queue for, on the event loop.

    SQLite has one writer at a time. Without this gate every writing request waits for the
    database lock inside a worker thread, and under load they fill the thread pool, so the
    request that holds the lock gets no thread to finish in: everything stalls until the
    busy timeout. Queued here they wait without a thread.
    """
    state = request.app.state
    if not state.settings.is_sqlite:
        return None
    gate: anyio.Lock | None = getattr(state, "sqlite_write_gate", None)
    if gate is None:
        gate = state.sqlite_write_gate = anyio.Lock()
    return gate


async def _db(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: committed before the response is sent, or rolled back."""
    database: Database = request.app.state.database
    write = _writes(request)
    gate = _sqlite_write_gate(request) if write else None
    async with gate if gate is not None else nullcontext():
        session = database.session(write=write)
        try:
            yield session
            await run_in_threadpool(session.commit)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(session.rollback)
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(session.close)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DB = Annotated[Session, Depends(_db, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
