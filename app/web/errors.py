"""Errors: a helpful page for browsers, RFC 9457 problem details for the JSON API."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

log = logging.getLogger("peerpath.web")

PROBLEM_TYPE_BASE = "https://peerpath.example/problems/"


class Problem(Exception):
    """An error a user can act on. `slug` names its problem type; `detail` says what to do."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.slug = slug or self.title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra or {}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/.well-known/")


def problem_response(request: Request, problem: Problem) -> Response:
    if wants_json(request):
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + problem.slug,
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
            "instance": request.url.path,
            **problem.extra,
        }
        return JSONResponse(
            body,
            status_code=problem.status,
            media_type="application/problem+json",
            headers=problem.headers,
        )
    from app.web.rendering import render

    response = render(request, "error.html", {"problem": problem}, status_code=problem.status)
    response.headers.update(problem.headers)
    return response


def _out_of_range(exc: Exception) -> bool:
    if isinstance(exc, OverflowError):
        return "too large to convert to SQLite" in str(exc)
    return isinstance(exc, DataError) and getattr(exc.orig, "sqlstate", None) == "22003"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = (
                "There is nothing at this address. Check the link, or go back to the start page."
            )
        return problem_response(
            request, Problem(exc.status_code, detail, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"location": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(
            f"{'.'.join(err['location'][1:]) or 'request'}: {err['message']}" for err in errors
        )
        return problem_response(
            request,
            Problem(
                422,
                f"Some of what was sent is not valid: {summary}",
                slug="invalid-request",
                title="Invalid request",
                extra={"errors": errors},
            ),
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _number_out_of_range(request: Request, exc: Exception) -> Response:
        # A number the database cannot hold, such as /attempts/99999999999999999999 (SQLite
        # cannot bind it; PostgreSQL says 22003): no row has such an id, so not a server error.
        if not _out_of_range(exc):
            return await _unexpected(request, exc)
        if request.method in ("GET", "HEAD"):
            return problem_response(
                request,
                Problem(404, "There is nothing at this address. Check the link, or go back."),
            )
        return problem_response(
            request,
            Problem(422, "A number in this request is too large.", slug="invalid-request"),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            Problem(
                500,
                "Something went wrong on our side. Nothing you saved has been lost; "
                "please try again in a moment.",
            ),
        )
