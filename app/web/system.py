"""Pages and endpoints every visitor can reach: health, help, curriculum assets."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import HTMLResponse, Response

from app.catalog import programme_records, release_of
from app.web.deps import DB
from app.web.errors import Problem
from app.web.rendering import render

router = APIRouter()


@router.get("/healthz", tags=["system"])
def healthz(db: DB) -> dict[str, str]:
    """Liveness and database reachability."""
    db.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/help", response_class=HTMLResponse, include_in_schema=False)
def help_page(request: Request) -> Response:
    """Crisis and referral contacts configured for this deployment."""
    return render(request, "help.html")


@router.get("/assets/{name}", include_in_schema=False)
def asset(name: str, db: DB) -> Response:
    """An image from a published release, by its content-addressed name (cacheable forever)."""
    for record in programme_records(db):
        found = release_of(record).assets.get(name)
        if found is not None:
            return Response(
                base64.b64decode(found.data),
                media_type=found.media_type,
                headers={"Cache-Control": "public, max-age=31536000, immutable"},
            )
    raise Problem(404, "This image is not part of any published curriculum.")
