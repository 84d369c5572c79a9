"""Verifier API keys: random secrets shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.store.certificates import VerifierApiKey
from app.store.prepared import Connectable, Prepared, raw_connection_of

KEY_PREFIX = "ppv_"
RECHECK_SECONDS = 30.0
_recently_valid: dict[str, float] = {}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, name: str, *, created_by: int | None = None) -> str:
    """A new key for a certifying body; the plaintext is returned once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(
        VerifierApiKey(name=name, prefix=key[:12], key_hash=_hash(key), created_by=created_by)
    )
    session.flush()
    return key


def find_api_key(session: Session, presented: str) -> VerifierApiKey | None:
    """The active key matching what the caller presented, if any."""
    if not presented.startswith(KEY_PREFIX) or len(presented) > 100:
        return None
    return session.scalars(
        select(VerifierApiKey).where(
            VerifierApiKey.key_hash == _hash(presented), VerifierApiKey.revoked_at.is_(None)
        )
    ).one_or_none()


_ACTIVE = Prepared(
    select(VerifierApiKey.id).where(
        VerifierApiKey.key_hash == bindparam("key_hash"), VerifierApiKey.revoked_at.is_(None)
    )
)


def is_valid_api_key(session: Connectable, presented: str) -> bool:
    """Whether the key is active; a valid answer is remembered for 30 s, so revoking a key
    takes effect within half a minute on every process."""
    digest = _hash(presented)
    now = time.monotonic()
    if _recently_valid.get(digest, 0.0) > now:
        return True
    active = presented.startswith(KEY_PREFIX) and len(presented) <= 100
    if not active or _ACTIVE.first(raw_connection_of(session), key_hash=digest) is None:
        _recently_valid.pop(digest, None)
        return False
    if len(_recently_valid) > 1000:
        _recently_valid.clear()
    _recently_valid[digest] = now + RECHECK_SECONDS
    return True
