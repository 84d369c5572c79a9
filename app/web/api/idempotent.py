"""Answering a write sent with an `Idempotency-Key`: run it once, replay its answer after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.accounts import SignedInAccount
from app.learning import idempotency
from app.store.accounts import User
from app.store.prepared import Connectable
from app.web.errors import Problem

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="A unique value per write (a UUID): a retry with the same key is recorded "
        "once and answered with the first response. Kept 72 hours.",
    ),
]


def run_once(
    request: Request,
    db: Connectable,
    user: User | SignedInAccount,
    key: str | None,
    payload: BaseModel | None,
    write: Callable[[], tuple[int, BaseModel]],
) -> Response:
    """Do `write` once per key, storing its response with its effect in the same transaction."""
    if key is None:
        status_code, body = write()
        return Response(body.model_dump_json(), status_code, media_type="application/json")
    print_ = idempotency.fingerprint(
        request.method, request.url.path, payload.model_dump_json() if payload else ""
    )
    try:
        stored = idempotency.claim(db, user.id, key, print_)
    except idempotency.KeyInvalid:
        raise Problem(
            400,
            "The Idempotency-Key must be 1–255 visible ASCII characters, such as a UUID.",
            slug="idempotency-key-invalid",
        ) from None
    except idempotency.KeyReused:
        raise Problem(
            422,
            "This Idempotency-Key was already used for a different request. Use a new key "
            "for each new change.",
            slug="idempotency-key-reused",
        ) from None
    except idempotency.KeyInFlight:
        raise Problem(
            409,
            "A request with this Idempotency-Key is still being processed. Retry shortly.",
            slug="idempotency-key-in-flight",
            headers={"Retry-After": "1"},
        ) from None
    if stored is not None:
        return Response(
            stored.body,
            stored.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    status_code, body = write()
    text = body.model_dump_json()
    idempotency.remember(db, user.id, key, status_code, text)
    return Response(text, status_code, media_type="application/json")
