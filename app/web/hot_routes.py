"""The busiest routes, served without FastAPI's router and dependency machinery.

A lesson page, "Mark as complete" and a certificate verification are most of the traffic,
and on them the layers between the security middleware and the endpoint (route matching
across every router, dependency solving, the exit stacks) cost about 0.6 ms a request: as
much as the work itself. Each hot route is still an ordinary FastAPI route (in the OpenAPI
document, and served by the router if this layer is not installed) whose endpoint takes only
the request and its path parameters; this layer matches it with the route's own pattern,
calls the endpoint, and turns an exception into a response with the app's own handlers, as
the router would. Everything else goes the usual way.
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
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])


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
                    response = await _respond(route, Request(scope, receive))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _respond(route: APIRoute, request: Request) -> Response:
    try:
        response: Response = await route.endpoint(request, **request.path_params)
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
    endpoint.hot_route = True  # type: ignore[attr-defined]
    return endpoint


def hot_routes_of(*routers: APIRouter) -> list[APIRoute]:
    """The routes of these routers whose endpoints are marked `hot`."""
    return [
        route
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and getattr(route.endpoint, "hot_route", False)
    ]
