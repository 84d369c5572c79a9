"""Administrator pages: the audit log of ratings, overrides, certificates and publishing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from app import audit
from app.store.accounts import User
from app.web.auth import require_role
from app.web.deps import DB
from app.web.rendering import render

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    dependencies=[require_role("admin")],
)
Admin = Annotated[User, require_role("admin")]


@router.get("/admin/audit")
def audit_log(
    request: Request,
    db: DB,
    user: Admin,
    action: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    chosen = action if action in audit.ACTIONS else ""
    return render(
        request,
        "admin_audit.html",
        {
            "entries": audit.recent(db, limit=limit, action=chosen or None),
            "actions": audit.ACTIONS,
            "chosen": chosen,
            "limit": limit,
        },
    )
