"""Request dependencies: the one database session per request, and the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings

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


def _db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed before the response is sent, or rolled back."""
    database = request.app.state.database
    with database.unit_of_work(write=_writes(request)) as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DB = Annotated[Session, Depends(_db, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
