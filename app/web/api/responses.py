"""The error answers of the JSON API, documented once for every route's `responses=`.

Every 4xx under /api/ is an RFC 9457 problem (`application/problem+json`, built by
`app.web.errors.problem_response`); a route lists the statuses it can give with
`problems(401, 404, …)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: what went wrong and what to do about it. Some problems add
    members of their own (`errors`, `waiting_for`, `unmet`, `retry_at`, `review_url`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong here, and what to do about it.")
    instance: str = Field(description="The path of the request.")


_PROBLEM_SCHEMA = ProblemDetails.model_json_schema()

_WHEN = {
    400: "The body is not well-formed JSON, or the Idempotency-Key header is not 1–255 "
    "visible ASCII characters.",
    401: "Not signed in, or the credentials (token, password or verifier key) are not valid.",
    403: "Not allowed: a missing or wrong CSRF token on a cookie-authenticated write, a role "
    "without access, a module whose prerequisites are unfinished, or a wrong password.",
    404: "There is nothing of that name for you here.",
    409: "The request conflicts with the current state (a submitted attempt, an ineligible "
    "enrolment, an attempt limit, or a request with the same Idempotency-Key in progress).",
    413: "The upload is larger than the limit.",
    422: "What was sent is not valid; `errors` lists each problem where there is more than one.",
    429: "Too many requests: wait the number of seconds in the Retry-After header.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer with these RFC 9457 problem statuses."""
    return {
        status: {
            "description": _WHEN[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


def content(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose 200 answer is not JSON (a PDF, a signed JWT)."""
    return {200: {"description": description, "content": {media_type: {}}}}


def error_page(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for statuses a route outside /api/ answers with an HTML error page."""
    return {
        status: {"description": _WHEN[status], "content": {"text/html": {}}} for status in statuses
    }
