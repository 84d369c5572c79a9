"""Who is asking, and may they: sessions, roles and CSRF, in one place.

- Browsers carry a signed cookie holding a random session token; the server keeps only the
  token's SHA-256 in `sessions`, so logging out, changing a password or deleting the account
  ends every session at once, and every server process sees the same sessions.
- API clients may instead send `Authorization: Bearer <token>` (from `POST /api/v1/tokens`),
  a row in the same table. Bearer requests are not open to CSRF (browsers never add the header).
- CSRF: every state-changing form carries `csrf_token`, an HMAC of a per-browser random cookie
  and the session; JSON requests authenticated by the cookie send the same value in
  `X-CSRF-Token` (from `GET /api/v1/me`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from http.cookies import SimpleCookie
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from itsdangerous import BadSignature, Signer
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import SignedInAccount, account_for_token, start_session
from app.config import Settings
from app.learning import EnrolledIn, enrolled_in, signed_in_and_enrolled
from app.store.accounts import User
from app.store.prepared import Connectable
from app.web.deps import DB
from app.web.errors import Problem, problem_response

# What templates may show of the signed-in user: a copy, safe after the session closes
# (an error page is rendered after its request's transaction was rolled back).
SignedIn = SignedInAccount


@dataclass(frozen=True)
class Caller:
    token: str
    via: str  # "cookie" | "bearer"
    view: SignedIn


class LoginRequired(Exception):
    """Raised by `CurrentUser` when nobody is signed in."""


def session_cookie_name(settings: Settings) -> str:
    return "__Host-pp_session" if settings.secure_cookies else "pp_session"


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-pp_csrf" if settings.secure_cookies else "pp_csrf"


def _settings(request: HTTPConnection) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _signer(settings: Settings) -> Signer:
    return _signer_for(settings.resolved_secret_key)


@lru_cache(maxsize=4)
def _signer_for(secret: str) -> Signer:
    # Made once per secret: every signed-in request checks its cookie with it.
    return Signer(secret, salt="peerpath-session-cookie")


def _is_api(request: HTTPConnection) -> bool:
    # The scope's path, as `request.url.path` gives it, without building the whole URL.
    path: str = request.scope["path"]
    return path.startswith("/api/")


def _bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an API call signed with a bearer token (a program: exempt from CSRF
    checks, and with no use for a CSRF seed cookie)."""
    header = connection.headers.get("authorization", "")
    if _is_api(connection) and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def _presented_token(request: Request) -> tuple[str, str] | None:
    bearer = _bearer_token(request)
    if bearer is not None:
        return bearer, "bearer"
    cookie = request.cookies.get(session_cookie_name(_settings(request)))
    if cookie:
        try:
            return _signer(_settings(request)).unsign(cookie).decode(), "cookie"
        except BadSignature:
            return None
    return None


def caller(request: Request, db: Connectable) -> Caller | None:
    """The signed-in caller of this request, looked up once per request."""
    if "caller" in request.state._state:
        found: Caller | None = request.state.caller
        return found
    result = None
    presented = _presented_token(request)
    if presented is not None:
        account = account_for_token(db, presented[0])
        if account is not None:
            result = Caller(token=presented[0], via=presented[1], view=account)
    request.state.caller = result
    return result


def _user(db: Session, found: Caller) -> User:
    user = db.get(User, found.view.id)
    assert user is not None  # found in this same transaction
    return user


def _optional_user(request: Request, db: DB) -> User | None:
    found = caller(request, db)
    return _user(db, found) if found else None


def _current_user(request: Request, db: DB) -> User:
    return signed_in(request, db)


def signed_in(request: Request, db: Session) -> User:
    """The signed-in user (for handlers that open their own session), else `LoginRequired`."""
    found = caller(request, db)
    if found is None:
        raise LoginRequired
    return _user(db, found)


def signed_in_account(request: Request, db: Connectable) -> SignedIn:
    """Who is signed in, without loading their ORM row (for the hot paths), else
    `LoginRequired`."""
    found = caller(request, db)
    if found is None:
        raise LoginRequired
    return found.view


def signed_in_enrolment(
    request: Request, db: Connectable, programme: str
) -> tuple[SignedIn, EnrolledIn | None]:
    """`signed_in_account` and the caller's enrolment in `programme` (`enrolled_in`), for the
    hot paths: one statement when the caller has not been looked up yet in this request."""
    if "caller" not in request.state._state:
        presented = _presented_token(request)
        found = signed_in_and_enrolled(db, presented[0], programme) if presented else None
        if found is not None and presented is not None:
            account, enrolment = found
            request.state.caller = Caller(token=presented[0], via=presented[1], view=account)
            return account, enrolment
    account = signed_in_account(request, db)  # nobody signed in: LoginRequired
    return account, enrolled_in(db, account.id, programme)


OptionalUser = Annotated[User | None, Depends(_optional_user)]
CurrentUser = Annotated[User, Depends(_current_user)]


def require_role(*roles: str) -> Any:
    """A dependency giving the signed-in user if their role is one of `roles` (else 403)."""

    def _with_role(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Problem(
                403,
                "Your account does not have access to this page. If you think it should, "
                "ask your administrator.",
                slug="forbidden",
            )
        return user

    return Depends(_with_role)


# --- sessions: starting and ending them on a response --------------------------------------


def begin_browser_session(response: Response, request: Request, db: Session, user: User) -> None:
    """Sign the user in on this browser: a fresh session token (never reuse one from before)."""
    settings = _settings(request)
    token = start_session(db, user, kind="browser", lifetime=timedelta(days=settings.session_days))
    response.set_cookie(
        session_cookie_name(settings),
        _signer(settings).sign(token).decode(),
        max_age=settings.session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    view = SignedIn(user.id, user.email, user.display_name, user.role)
    request.state.caller = Caller(token=token, via="cookie", view=view)


def forget_browser_session(response: Response, request: Request) -> None:
    settings = _settings(request)
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


# --- CSRF ------------------------------------------------------------------------------------


def _csrf_seed(request: HTTPConnection) -> str | None:
    seed = request.cookies.get(csrf_cookie_name(_settings(request)))
    return seed or request.state._state.get("csrf_seed")


def _expected_csrf(request: Request, found: Caller | None) -> str | None:
    seed = _csrf_seed(request)
    if not seed:
        return None
    binding = hashlib.sha256(found.token.encode()).hexdigest() if found else ""
    key = _settings(request).resolved_secret_key.encode()
    return hmac.new(key, f"csrf|{seed}|{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request, db: Session) -> str:
    """The CSRF token for forms on this page (bound to this browser and its session)."""
    return _expected_csrf(request, caller(request, db)) or ""


async def sent_csrf_token(request: Request) -> str:
    """The token the request carries: the `X-CSRF-Token` header (API) or the form field."""
    if _is_api(request):
        return request.headers.get("x-csrf-token", "")
    form = await request.form()
    value = form.get("csrf_token", "")
    return value if isinstance(value, str) else ""


def _verify_csrf(request: Request, db: DB, sent: Annotated[str, Depends(sent_csrf_token)]) -> None:
    # Sync on purpose: it queries the database, which must never block the event loop.
    check_csrf(request, caller(request, db), sent)


def check_csrf(request: Request, found: Caller | None, sent: str) -> None:
    """Refuse a state-changing request whose CSRF token is missing or wrong (bearer: exempt)."""
    if found is not None and found.via == "bearer":
        return
    expected = _expected_csrf(request, found)
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Problem(
            403,
            "This form has expired or did not come from this site, so nothing was changed. "
            "Go back, reload the page and try again.",
            slug="csrf-token-invalid",
            title="Please try that again",
        )


verify_csrf = Depends(_verify_csrf)
# For handlers that open their own session: the token sent, to pass to `signed_in_writer`.
SentCsrfToken = Annotated[str, Depends(sent_csrf_token)]


def signed_in_writer(request: Request, db: Connectable, sent: str) -> SignedIn:
    """`CurrentUser` and `verify_csrf` for a handler with its own session: who is signed in
    (else `LoginRequired`), refused if a cookie-signed request lacks its CSRF token."""
    account = signed_in_account(request, db)
    check_csrf(request, caller(request, db), sent)
    return account


def enrolled_writer(
    request: Request, db: Connectable, sent: str, programme: str
) -> tuple[SignedIn, EnrolledIn | None]:
    """`signed_in_writer` and the caller's enrolment in `programme` (`signed_in_enrolment`):
    refused for a missing CSRF token before anything is said of the enrolment."""
    account, enrolment = signed_in_enrolment(request, db, programme)
    check_csrf(request, caller(request, db), sent)
    return account, enrolment


class CsrfSeedMiddleware:
    """Gives every browser a random CSRF seed cookie on its first visit (API calls signed
    with a bearer token are not browsers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/static/", "/assets/")):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        settings = _settings(connection)
        name = csrf_cookie_name(settings)
        if connection.cookies.get(name) or _bearer_token(connection) is not None:
            await self.app(scope, receive, send)
            return
        seed = secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf_seed"] = seed
        cookie: SimpleCookie = SimpleCookie()
        cookie[name] = seed
        cookie[name]["path"] = "/"
        cookie[name]["httponly"] = True
        cookie[name]["samesite"] = "Lax"
        cookie[name]["max-age"] = str(365 * 86400)
        if settings.secure_cookies:
            cookie[name]["secure"] = True
        header = cookie.output(header="").strip()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- wiring ----------------------------------------------------------------------------------


def safe_next(target: str | None, default: str = "/dashboard") -> str:
    """A local path to go to after signing in (never another site)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def _auth_context(request: Request) -> dict[str, Any]:
    """Template values: the signed-in user and `csrf_input()` for forms."""
    state = request.state._state
    if "caller" not in state:
        with request.app.state.database.unit_of_work(write=False) as db:
            caller(request, db)
    found: Caller | None = state["caller"]
    field: list[Markup] = []  # made on the first call: a page's forms all carry the same token

    def csrf_input() -> Markup:
        if not field:
            token = _expected_csrf(request, found) or ""
            field.append(Markup('<input type="hidden" name="csrf_token" value="%s">') % token)
        return field[0]

    return {"current_user": found.view if found else None, "csrf_input": csrf_input}


def install_auth(app: FastAPI) -> None:
    """Add the CSRF seed cookie, the sign-in redirect and the template values to the app."""
    app.add_middleware(CsrfSeedMiddleware)
    providers: list[Callable[[Request], dict[str, Any]]] = app.state.context_providers
    providers.append(_auth_context)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return problem_response(
                request,
                Problem(
                    401,
                    "Sign in first: send a bearer token from POST /api/v1/tokens, "
                    "or the session cookie with an X-CSRF-Token header.",
                    slug="unauthenticated",
                    headers={"WWW-Authenticate": "Bearer"},
                ),
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
