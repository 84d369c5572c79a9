"""Request dependencies: the one database session per request, and the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed before the response is sent, or rolled back."""
    database = request.app.state.database
    with database.unit_of_work(write=request.method not in SAFE_METHODS) as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DB = Annotated[Session, Depends(_db, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
