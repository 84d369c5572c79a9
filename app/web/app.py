"""The application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from app.config import Settings
from app.store import connect
from app.store.groupcommit import GroupCommitter
from app.store.migrate import pending
from app.web import account, assess, certificate_pages, learn, rating, system, verify
from app.web import admin as admin_pages
from app.web import train as train_pages
from app.web.api import accounts as api_accounts
from app.web.api import certificates as api_certificates
from app.web.api import learning as api_learning
from app.web.auth import install_auth
from app.web.bundled import publish_bundled_curriculum
from app.web.errors import install_error_handlers
from app.web.hot_routes import HotRoutes, hot_routes_of
from app.web.rendering import HERE
from app.web.security import SecurityHeaders

log = logging.getLogger("peerpath.web")


class SchemaOutOfDate(RuntimeError):
    """The database has not been migrated to this version of PeerPath."""


def _tune_garbage_collection() -> None:
    """What a server process has built by the time it starts (releases, templates, compiled
    statements, the app) lives as long as the process: the cyclic garbage collector stops
    scanning it (`gc.freeze`), and collects young objects every 20,000 allocations instead
    of 700: full collections over that heap took milliseconds in the middle of requests.
    The p99 of a lesson page paced at 1,100/s on SQLite (8 s runs) went from 16–252 ms
    (median of six runs 70 ms) to 14–231 ms (median of eight 30 ms): fewer stalls, not none."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    settings: Settings | None = None, *, hot_routes: bool = True, serving: bool = False
) -> FastAPI:
    """Build the PeerPath web application for these settings (`hot_routes=False`: every
    request through FastAPI's router, to compare answers with and without the hot path;
    `serving=True`: a server process, which tunes the garbage collector once started)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = connect(settings)
        with database.writer.connect() as connection:
            if pending(connection):
                database.dispose()
                raise SchemaOutOfDate(
                    "The database schema is out of date: run `peerpath migrate` first."
                )
        app.state.database = database
        publish_bundled_curriculum(settings, database)
        # SQLite has one writer at a time: hot writes share one transaction and one fsync.
        committer = GroupCommitter(database) if settings.is_sqlite else None
        app.state.committer = committer
        if serving:
            _tune_garbage_collection()
        yield
        if committer is not None:
            committer.close()
        database.dispose()

    app = FastAPI(
        title="PeerPath",
        summary="Training and certification for mental-health peer support workers.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.state.settings = settings
    context_providers: list[Callable[[Request], dict[str, Any]]] = []
    app.state.context_providers = context_providers
    install_error_handlers(app)
    if hot_routes:  # innermost of our layers: its answers get the CSRF seed and the headers
        app.add_middleware(
            HotRoutes,
            routes=hot_routes_of(
                learn.router, api_learning.router, api_certificates.router, verify.router
            ),
        )
    install_auth(app)
    app.add_middleware(SecurityHeaders, force_hsts=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Routes are matched in order: the busiest (lessons, progress, verification) come first.
    app.include_router(learn.router)
    app.include_router(api_learning.router)
    app.include_router(api_certificates.router)
    app.include_router(verify.router)
    app.include_router(system.router)
    app.include_router(account.router)
    app.include_router(assess.router)
    app.include_router(assess.api)
    app.include_router(rating.router)
    app.include_router(api_accounts.router)
    app.include_router(train_pages.router)
    app.include_router(certificate_pages.router)
    app.include_router(admin_pages.router)
    return app
