"""Login rate limits kept in the database, so every server process shares them.

A bucket (one account, or one client address) may fail `free` times in a window; each
further failure blocks it for twice as long as the last, from 30 seconds up to 15 minutes.
Backoff rather than lockout, so nobody can lock a trainee out for long by guessing on purpose.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.store.accounts import RateLimit
from app.store.base import utcnow


@dataclass(frozen=True)
class Limit:
    free: int
    window: timedelta
    first_block: timedelta = timedelta(seconds=30)
    longest_block: timedelta = timedelta(minutes=15)


PER_ACCOUNT = Limit(free=5, window=timedelta(minutes=15))
# A whole training room may share one address: generous, it only stops mass guessing.
PER_ADDRESS = Limit(free=100, window=timedelta(minutes=15))


def account_bucket(email: str) -> str:
    # Hashed so the table holds no email addresses, including ones that have no account.
    return "login:account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


def address_bucket(address: str) -> str:
    return "login:address:" + address[:80]


def retry_after(session: Session, buckets: list[str]) -> int:
    """Seconds until every bucket may try again (0: go ahead)."""
    now = utcnow()
    waits = [
        (row.blocked_until - now).total_seconds()
        for row in session.scalars(select(RateLimit).where(RateLimit.bucket.in_(buckets)))
        if row.blocked_until is not None and row.blocked_until > now
    ]
    return math.ceil(max(waits)) if waits else 0


def record_failure(session: Session, bucket: str, limit: Limit) -> None:
    now = utcnow()
    # Forget buckets idle for a day, so the table stays small.
    session.execute(
        delete(RateLimit).where(
            RateLimit.window_started_at < now - timedelta(days=1),
            (RateLimit.blocked_until.is_(None)) | (RateLimit.blocked_until < now),
        )
    )
    row = _locked_row(session, bucket)
    if now - row.window_started_at > limit.window:
        row.failures, row.window_started_at, row.blocked_until = 0, now, None
    row.failures += 1
    over = row.failures - limit.free
    if over > 0:
        block = min(limit.first_block * (2 ** min(over - 1, 20)), limit.longest_block)
        row.blocked_until = now + block
        # Keep the window open while blocked, so the count is not forgotten mid-block.
        row.window_started_at = max(row.window_started_at, now + block - limit.window)


def clear(session: Session, bucket: str) -> None:
    row = session.get(RateLimit, bucket)
    if row is not None:
        session.delete(row)


def _locked_row(session: Session, bucket: str) -> RateLimit:
    """The bucket's row, created if missing, locked for this transaction (no lost updates)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now: datetime = utcnow()
    session.execute(
        insert(RateLimit)
        .values(bucket=bucket, failures=0, window_started_at=now, blocked_until=None)
        .on_conflict_do_nothing(index_elements=["bucket"])
    )
    return session.scalars(
        select(RateLimit)
        .where(RateLimit.bucket == bucket)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
