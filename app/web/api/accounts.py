"""API: bearer tokens, who am I, download my data, delete my account."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app import accounts
from app.store.base import utcnow
from app.web.account import client_address
from app.web.api.responses import problems
from app.web.api.schemas import DeleteAccountRequest, MeOut, TokenOut, TokenRequest
from app.web.auth import CurrentUser, caller, csrf_token, verify_csrf
from app.web.deps import DB, AppSettings
from app.web.errors import Problem, problem_response

router = APIRouter(prefix="/api/v1", tags=["account"])
log = logging.getLogger("peerpath.accounts")


@router.post(
    "/tokens", status_code=201, response_model=TokenOut, responses=problems(400, 401, 422, 429)
)
def create_token(
    request: Request, body: TokenRequest, db: DB, settings: AppSettings
) -> TokenOut | Response:
    """Exchange email and password for a bearer token (rate-limited like signing in)."""
    account_bucket = accounts.account_bucket(body.email)
    address_bucket = accounts.address_bucket(client_address(request))
    wait = accounts.retry_after(db, [account_bucket, address_bucket])
    if wait:
        return problem_response(
            request,
            Problem(
                429,
                f"Too many sign-in attempts. Wait {wait} seconds and try again.",
                slug="too-many-attempts",
                headers={"Retry-After": str(wait)},
            ),
        )
    user = accounts.authenticate(db, body.email, body.password)
    if user is None:
        # Returned rather than raised so that the failure counts are committed.
        accounts.record_failure(db, account_bucket, accounts.PER_ACCOUNT)
        accounts.record_failure(db, address_bucket, accounts.PER_ADDRESS)
        return problem_response(
            request,
            Problem(
                401,
                "That email and password do not match an account.",
                slug="invalid-credentials",
            ),
        )
    accounts.rate_limits.clear(db, account_bucket)
    lifetime = timedelta(days=settings.api_token_days)
    token = accounts.start_session(db, user, kind="api", lifetime=lifetime)
    log.info("account %s created an API token", user.id)
    return TokenOut(token=token, expires_at=utcnow() + lifetime)


@router.delete(
    "/tokens/current",
    status_code=204,
    dependencies=[verify_csrf],
    responses=problems(401, 403),
)
def revoke_token(request: Request, db: DB, user: CurrentUser) -> Response:
    """End the session or token this request was made with."""
    found = caller(request, db)
    if found is not None:
        accounts.end_session(db, found.token)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, responses=problems(401))
def me(request: Request, db: DB, user: CurrentUser) -> MeOut:
    return MeOut(
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        csrf_token=csrf_token(request, db),
    )


@router.get("/me/export", responses=problems(401))
def export(db: DB, user: CurrentUser) -> dict[str, Any]:
    """Everything PeerPath holds about you: profile, enrolments, progress and reflections."""
    return accounts.export_user_data(db, user)


@router.post(
    "/me/delete",
    status_code=204,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 422),
)
def delete_account(body: DeleteAccountRequest, db: DB, user: CurrentUser) -> Response:
    """Delete your account and all your data (your password confirms it)."""
    if not accounts.verify_password(user.password_hash, body.password):
        raise Problem(
            403, "That password is not right, so nothing was deleted.", slug="wrong-password"
        )
    user_id = user.id
    accounts.delete_account(db, user)
    log.info("account %s deleted", user_id)
    return Response(status_code=204)
