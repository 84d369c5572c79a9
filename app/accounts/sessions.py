"""Server-side sessions: a random token held by the client, its SHA-256 held by the server."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnExpressionArgument, Select, bindparam, delete, select
from sqlalchemy.orm import Session

from app.store.accounts import User, UserSession
from app.store.base import utcnow
from app.store.prepared import Connectable, Prepared, raw_connection_of


@dataclass(frozen=True)
class SignedInAccount:
    """Who a session token belongs to: a plain copy, safe to keep after the transaction."""

    id: int
    email: str
    display_name: str
    role: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, *, kind: str, lifetime: timedelta) -> str:
    """A new session for the user; returns the secret token (256 random bits) to give the client."""
    token = secrets.token_urlsafe(32)
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.expires_at <= utcnow()
        )
    )
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            kind=kind,
            expires_at=utcnow() + lifetime,
        )
    )
    session.flush()
    return token


def account_for_token_query(
    *also: ColumnExpressionArgument[Any],
) -> Select[*tuple[Any, ...]]:
    """The active account a session token belongs to (`SignedInAccount`'s four columns, then
    `also`), binding `token_hash` and `now` (see `token_params`): for a hot path that looks
    up more in the same statement (join what `also` needs onto it)."""
    return (
        select(User.id, User.email, User.display_name, User.role, *also)
        .select_from(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == bindparam("token_hash"),
            UserSession.expires_at > bindparam("now"),
            User.deleted_at.is_(None),
        )
    )


def token_params(token: str) -> dict[str, Any] | None:
    """The parameters of `account_for_token_query` for a presented token; None for a token
    that cannot be one of ours (empty or over-long), which is looked up no further."""
    if not token or len(token) > 128:
        return None
    return {"token_hash": token_hash(token), "now": utcnow()}


# Looked up on every signed-in request, so prepared (see app/store/prepared.py).
_ACCOUNT_FOR_TOKEN = Prepared(account_for_token_query())


def account_for_token(connection: Connectable, token: str) -> SignedInAccount | None:
    """The active account a token belongs to, if its session has not expired or been ended."""
    params = token_params(token)
    if params is None:
        return None
    found = _ACCOUNT_FOR_TOKEN.first(raw_connection_of(connection), **params)
    return SignedInAccount(*found) if found is not None else None


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))


def end_all_sessions(session: Session, user_id: int, *, keep: str | None = None) -> None:
    """End every session of a user (password change, reset, deletion), except `keep` if given."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(UserSession.token_hash != token_hash(keep))
    session.execute(statement)
