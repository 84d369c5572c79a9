"""Account pages: register, sign in and out, change or reset a password, download or delete data."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app import accounts
from app.accounts import AccountError
from app.accounts.rate_limits import Limit
from app.web.auth import (
    CurrentUser,
    begin_browser_session,
    caller,
    forget_browser_session,
    safe_next,
    verify_csrf,
)
from app.web.deps import DB, AppSettings
from app.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
log = logging.getLogger("peerpath.accounts")

FormText = Annotated[str, Form(max_length=2000)]
Secret = Annotated[str, Form(max_length=accounts.passwords.MAX_LENGTH + 1)]


RESET_PER_ACCOUNT = Limit(free=2, window=timedelta(hours=1))  # the 3rd blocks the 4th
RESET_PER_ADDRESS = Limit(free=20, window=timedelta(hours=1))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _form_page(
    request: Request,
    template: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    response = render(
        request,
        template,
        {"errors": errors or {}, "values": values or {}, **context},
        status_code=status_code,
    )
    response.headers.update(headers or {})
    return response


# --- register ----------------------------------------------------------------------------


@router.get("/register")
def register_page(request: Request) -> Response:
    return _form_page(request, "account/register.html")


@router.post("/register", dependencies=[verify_csrf])
def register(
    request: Request,
    db: DB,
    email: FormText,
    display_name: FormText,
    password: Secret,
) -> Response:
    try:
        user = accounts.create_user(
            db, email=email, display_name=display_name, password=password, role="trainee"
        )
    except AccountError as error:
        return _form_page(
            request,
            "account/register.html",
            errors={error.field or "email": error.message},
            values={"email": email, "display_name": display_name},
            status_code=400,
        )
    log.info("account %s registered", user.id)
    response = RedirectResponse("/dashboard", status_code=303)
    begin_browser_session(response, request, db, user)
    return response


# --- sign in and out ---------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    return _form_page(request, "account/login.html", values={"next": safe_next(next)})


@router.post("/login", dependencies=[verify_csrf])
def login(
    request: Request,
    db: DB,
    email: FormText,
    password: Secret,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    values = {"email": email, "next": safe_next(next)}
    account_bucket = accounts.account_bucket(email)
    address_bucket = accounts.address_bucket(client_address(request))
    wait = accounts.retry_after(db, [account_bucket, address_bucket])
    if wait:
        minutes = max(1, round(wait / 60))
        return _form_page(
            request,
            "account/login.html",
            errors={
                "form": (
                    "There have been too many sign-in attempts. For your security, wait "
                    f"{minutes} minute(s) and try again, or reset your password."
                )
            },
            values=values,
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    user = accounts.authenticate(db, email, password)
    if user is None:
        # Returned, not raised: the failure counts must be committed.
        accounts.record_failure(db, account_bucket, accounts.PER_ACCOUNT)
        accounts.record_failure(db, address_bucket, accounts.PER_ADDRESS)
        log.info("failed sign-in from %s", client_address(request))
        return _form_page(
            request,
            "account/login.html",
            errors={"form": "That email and password do not match an account. Try again."},
            values=values,
            status_code=401,
        )
    accounts.rate_limits.clear(db, account_bucket)
    previous = caller(request, db)
    if previous is not None:
        accounts.end_session(db, previous.token)
    log.info("account %s signed in", user.id)
    response = RedirectResponse(safe_next(next), status_code=303)
    begin_browser_session(response, request, db, user)
    return response


@router.post("/logout", dependencies=[verify_csrf])
def logout(request: Request, db: DB) -> Response:
    found = caller(request, db)
    if found is not None:
        accounts.end_session(db, found.token)
    response = RedirectResponse("/?signed_out=1", status_code=303)
    forget_browser_session(response, request)
    return response


# --- forgotten password --------------------------------------------------------------------


@router.get("/forgot-password")
def forgot_page(request: Request) -> Response:
    return _form_page(request, "account/forgot.html")


@router.post("/forgot-password", dependencies=[verify_csrf])
def forgot(
    request: Request, db: DB, settings: AppSettings, tasks: BackgroundTasks, email: FormText
) -> Response:
    # Every request counts, whether or not the account exists (so the limit reveals nothing):
    # nobody can flood an inbox with reset emails or the mail server with work.
    buckets = [
        ("reset:" + accounts.account_bucket(email), RESET_PER_ACCOUNT),
        ("reset:" + accounts.address_bucket(client_address(request)), RESET_PER_ADDRESS),
    ]
    wait = accounts.retry_after(db, [bucket for bucket, _ in buckets])
    if wait:
        return _form_page(
            request,
            "account/forgot.html",
            errors={"email": f"Too many reset requests. Wait {wait} seconds and try again."},
            values={"email": email},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    for bucket, limit in buckets:
        accounts.record_failure(db, bucket, limit)
    user = accounts.find_user(db, email)
    if user is not None:
        token = accounts.make_reset_token(settings.resolved_secret_key, user)
        link = f"{settings.base_url.rstrip('/')}/reset-password/{token}"
        # After the response, so its timing says nothing about whether the account exists.
        tasks.add_task(accounts.send_reset_link, settings, user.email, link)
    return _form_page(request, "account/forgot.html", sent=True)


@router.get("/reset-password/{token}")
def reset_page(request: Request, db: DB, settings: AppSettings, token: str) -> Response:
    user = accounts.user_for_reset_token(db, settings.resolved_secret_key, token)
    response = _form_page(request, "account/reset.html", token=token, valid=user is not None)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/reset-password/{token}", dependencies=[verify_csrf])
def reset(
    request: Request, db: DB, settings: AppSettings, token: str, new_password: Secret
) -> Response:
    user = accounts.user_for_reset_token(db, settings.resolved_secret_key, token)
    if user is None:
        return _form_page(request, "account/reset.html", token=token, valid=False, status_code=400)
    try:
        accounts.set_password(user, new_password)
    except AccountError as error:
        return _form_page(
            request,
            "account/reset.html",
            token=token,
            valid=True,
            errors={"new_password": error.message},
            status_code=400,
        )
    accounts.end_all_sessions(db, user.id)
    log.info("account %s reset its password", user.id)
    response = RedirectResponse("/dashboard", status_code=303)
    begin_browser_session(response, request, db, user)
    return response


# --- your account -------------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request, user: CurrentUser, changed: str = "") -> Response:
    flashes = ["Your password has been changed."] if changed else []
    return _form_page(request, "account/account.html", flashes=flashes)


@router.post("/account/password", dependencies=[verify_csrf])
def change_password(
    request: Request, db: DB, user: CurrentUser, current_password: Secret, new_password: Secret
) -> Response:
    try:
        accounts.change_password(user, current_password, new_password)
    except AccountError as error:
        return _form_page(
            request,
            "account/account.html",
            errors={error.field or "new_password": error.message},
            status_code=400,
        )
    # Every other session ends; this browser gets a fresh one.
    accounts.end_all_sessions(db, user.id)
    log.info("account %s changed its password", user.id)
    response = RedirectResponse("/account?changed=1", status_code=303)
    begin_browser_session(response, request, db, user)
    return response


@router.get("/account/export")
def export(db: DB, user: CurrentUser) -> Response:
    body = json.dumps(accounts.export_user_data(db, user), indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="peerpath-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/account/delete", dependencies=[verify_csrf])
def delete(request: Request, db: DB, user: CurrentUser, delete_password: Secret) -> Response:
    if not accounts.verify_password(user.password_hash, delete_password):
        return _form_page(
            request,
            "account/account.html",
            errors={
                # A message to the user, not a password.
                "delete_password": "That password is not right, so nothing was deleted."  # nosec B105
            },
            status_code=400,
        )
    user_id = user.id
    accounts.delete_account(db, user)
    log.info("account %s deleted", user_id)
    response = RedirectResponse("/?deleted=1", status_code=303)
    forget_browser_session(response, request)
    return response
