"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header): a retried write counts once.

The key's record is inserted first in the write's own transaction, with a unique
(user, key) constraint, and the response is stored before commit. So a retry after the
first commit gets the stored response; the same key with another payload is refused; and
on PostgreSQL a retry while the first is still in flight waits briefly, then gets 409.
(SQLite runs one write transaction at a time, so there a retry simply waits its turn.)
Records are kept for at least `RETENTION` (a write now and then purges its writer's older ones).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.store.base import utcnow
from app.store.learning import IdempotencyRecord

RETENTION = timedelta(hours=72)
PURGE_EVERY = 32
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyInvalid(ValueError):
    pass


class KeyInFlight(RuntimeError):
    """Another request with this key has not finished yet."""


class KeyReused(ValueError):
    """The key was used before with a different request."""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: str


def fingerprint(method: str, path: str, body: str) -> str:
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def claim(session: Session, user_id: int, key: str, print_: str) -> StoredResponse | None:
    """Claim a key for this write; or, if it was used already, the response stored for it."""
    if not KEY_PATTERN.match(key):
        raise KeyInvalid(key)
    if _purge_now(key):
        purge_expired(session, user_id)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(IdempotencyRecord)
        .values(
            user_id=user_id,
            idempotency_key=key,
            fingerprint=print_,
            status_code=0,
            response_body="",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
        .returning(IdempotencyRecord.id)
    )
    if dialect == "postgresql":
        session.execute(text("SET LOCAL lock_timeout = '2s'"))
        try:
            claimed = session.execute(statement).scalar_one_or_none()
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) == "55P03":
                raise KeyInFlight(key) from None
            raise
        session.execute(text("SET LOCAL lock_timeout = 0"))
    else:
        claimed = session.execute(statement).scalar_one_or_none()
    if claimed is not None:
        return None
    record = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.idempotency_key == key
        )
    ).one()
    if record.fingerprint != print_:
        raise KeyReused(key)
    return StoredResponse(record.status_code, record.response_body)


def remember(session: Session, user_id: int, key: str, status_code: int, body: str) -> None:
    """Store the response of the write that claimed this key (same transaction as the effect)."""
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.idempotency_key == key)
        .values(status_code=status_code, response_body=body)
    )


def purge_expired(session: Session, user_id: int) -> None:
    """Forget this user's keys older than `RETENTION`."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.created_at < utcnow() - RETENTION,
        )
    )


def _purge_now(key: str) -> bool:
    """About one write in `PURGE_EVERY` also purges the writer's expired keys (chosen by the
    key's hash, so a retry makes the same choice). Keys are kept at least `RETENTION`; a
    write does not pay for a purge that the previous writes already did."""
    return hashlib.blake2b(key.encode(), digest_size=2).digest()[0] % PURGE_EVERY == 0
