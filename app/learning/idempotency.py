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
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.store.base import UTCDateTime, utcnow
from app.store.learning import IdempotencyRecord
from app.store.prepared import Connectable, Prepared, raw_connection_of

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


def _claim(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(IdempotencyRecord)
        .values(
            user_id=bindparam("user"),
            idempotency_key=bindparam("key"),
            fingerprint=bindparam("print"),
            status_code=0,
            response_body="",
            created_at=bindparam("now", type_=UTCDateTime),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
        .returning(IdempotencyRecord.id)
    )


_ONE = (IdempotencyRecord.user_id == bindparam("user")) & (
    IdempotencyRecord.idempotency_key == bindparam("key")
)
_CLAIM = Prepared(_claim)
_STORED = Prepared(
    select(
        IdempotencyRecord.fingerprint,
        IdempotencyRecord.status_code,
        IdempotencyRecord.response_body,
    ).where(_ONE)
)
_REMEMBER = Prepared(
    update(IdempotencyRecord)
    .where(_ONE)
    .values(status_code=bindparam("status"), response_body=bindparam("body"))
)


def claim(session: Connectable, user_id: int, key: str, print_: str) -> StoredResponse | None:
    """Claim a key for this write; or, if it was used already, the response stored for it."""
    if not KEY_PATTERN.match(key):
        raise KeyInvalid(key)
    if _purge_now(key):
        purge_expired(session, user_id)
    connection = raw_connection_of(session)
    values = {"user": user_id, "key": key, "print": print_, "now": utcnow()}
    if connection.dialect.name == "postgresql":
        cursor = connection.dbapi.cursor()
        cursor.execute("SET LOCAL lock_timeout = '2s'")
        try:
            claimed = _CLAIM.rows(connection, **values)
        except Exception as error:  # the driver's own error: this path skips SQLAlchemy's
            if getattr(error, "sqlstate", None) == "55P03":
                raise KeyInFlight(key) from None
            raise
        cursor.execute("SET LOCAL lock_timeout = 0")
        cursor.close()
    else:
        claimed = _CLAIM.rows(connection, **values)
    if claimed:
        return None
    stored = _STORED.first(connection, user=user_id, key=key)
    assert stored is not None  # the conflict that stopped the insert
    if stored[0] != print_:
        raise KeyReused(key)
    return StoredResponse(stored[1], stored[2])


def remember(session: Connectable, user_id: int, key: str, status_code: int, body: str) -> None:
    """Store the response of the write that claimed this key (same transaction as the effect)."""
    _REMEMBER.run(raw_connection_of(session), user=user_id, key=key, status=status_code, body=body)


_PURGE = Prepared(
    delete(IdempotencyRecord).where(
        IdempotencyRecord.user_id == bindparam("user"),
        IdempotencyRecord.created_at < bindparam("before"),
    )
)


def purge_expired(session: Connectable, user_id: int) -> None:
    """Forget this user's keys older than `RETENTION`."""
    _PURGE.run(raw_connection_of(session), user=user_id, before=utcnow() - RETENTION)


def _purge_now(key: str) -> bool:
    """About one write in `PURGE_EVERY` also purges the writer's expired keys (chosen by the
    key's hash, so a retry makes the same choice). Keys are kept at least `RETENTION`; a
    write does not pay for a purge that the previous writes already did."""
    return hashlib.blake2b(key.encode(), digest_size=2).digest()[0] % PURGE_EVERY == 0
