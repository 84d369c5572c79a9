"""The busiest routes, served without FastAPI's router and dependency machinery.

A lesson page, "Mark as complete" and a certificate verification are most of the traffic,
and on them the layers between the security middleware and the endpoint (route matching
across every router, dependency solving, the exit stacks) cost about 0.6 ms a request: as
much as the work itself. Each hot route is still an ordinary FastAPI route (in the OpenAPI
document, and served by the router if this layer is not installed) whose endpoint takes only
the request and its path parameters; this layer matches it with the route's own pattern,
calls the endpoint, and turns an exception into a response with the app's own handlers, as
the router would. Everything else goes the usual way.

An endpoint that takes more than its path (a JSON body, headers) names a fast path of that
shape with `served_hot_by`. The fast path reads and validates what it needs itself, and for
anything out of the ordinary (a body that does not validate, an unexpected content type)
raises `Declined` before it has any effect: the request, with the body it read, then goes
through the router, so unusual requests get FastAPI's own answers, validation errors included.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])


class Declined(Exception):
    """A fast path leaves this request to the router; `body` is the body if it read it."""

    def __init__(self, body: bytes | None = None) -> None:
        super().__init__()
        self.body = body


class HotRoutes:
    """Serves `routes` directly (see the module's docstring); passes everything else on."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[APIRoute]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    try:
                        response = await _respond(route, Request(scope, receive))
                    except Declined as declined:
                        await self.app(scope, _replaying(declined.body, receive), send)
                        return
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _replaying(body: bytes | None, receive: Receive) -> Receive:
    """`receive` for the router after a fast path declined: the body it read, then the rest."""
    if body is None:
        return receive
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _respond(route: APIRoute, request: Request) -> Response:
    fast: Callable[..., Awaitable[Response]] = route.endpoint.hot_route  # type: ignore[attr-defined]
    try:
        response: Response = await fast(request, **request.path_params)
    except Declined:
        raise
    except Exception as error:
        handler = _handler_for(request.app, error)
        if handler is None:
            raise  # unexpected: logged and answered 500 by the outermost layer, as elsewhere
        answer = (
            await handler(request, error)
            if inspect.iscoroutinefunction(handler)
            else await run_in_threadpool(handler, request, error)
        )
        return cast(Response, answer)
    return response


def _handler_for(app: FastAPI, error: Exception) -> Handler | None:
    """The app's handler for this kind of error (the catch-all for `Exception` excluded)."""
    handlers: dict[Any, Handler] = app.exception_handlers
    for kind in type(error).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            return handlers[kind]
    return None


def hot(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint (async, taking the request and path parameters) as a hot route."""
    endpoint.hot_route = endpoint  # type: ignore[attr-defined]
    return endpoint


def served_hot_by(fast: Callable[..., Awaitable[Response]]) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint as a hot route served by `fast`: async, taking the request and the
    path parameters, doing what the endpoint does, and raising `Declined` (before any effect)
    for a request it leaves to the router."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.hot_route = fast  # type: ignore[attr-defined]
        return endpoint

    return mark


def hot_routes_of(*routers: APIRouter) -> list[APIRoute]:
    """The routes of these routers whose endpoints are marked `hot`."""
    return [
        route
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and getattr(route.endpoint, "hot_route", None) is not None
    ]
