"""Rate limits for anonymous verification, shared by every server process through the database.

Each process counts hits locally and adds them to the shared row every few hits (or every
second), so a busy verifier costs one small write per batch, not one per request; near the limit
every process looks at the shared count before letting a request through.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.store.base import utcnow
from app.store.certificates import VerificationCounter


@dataclass
class _Bucket:
    window_started_at: datetime
    shared: int = 0
    pending: int = 0
    synced_at: float = field(default_factory=time.monotonic)


class VerificationThrottle:
    """At most `limit` requests per `window` per bucket (e.g. one client address)."""

    def __init__(
        self,
        engine: Engine,
        *,
        limit: int = 60,
        window: timedelta = timedelta(minutes=1),
        batch: int = 5,
        sync_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.limit = limit
        self.window = window
        self.batch = max(1, min(batch, limit // 4 or 1))
        self.sync_seconds = sync_seconds
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str) -> int:
        """Count one request; 0 if it may go ahead, else the seconds to wait (Retry-After)."""
        now = utcnow()
        with self._lock:
            state = self._buckets.get(bucket)
            if state is None or now - state.window_started_at >= self.window:
                state = self._buckets[bucket] = _Bucket(window_started_at=now)
                self._sync(bucket, state)
            counted = state.shared + state.pending
            stale = time.monotonic() - state.synced_at >= self.sync_seconds
            # Near the limit, look at the others' counts first (once a second while blocked).
            if counted + self.batch >= self.limit and (counted < self.limit or stale):
                self._sync(bucket, state)
            if state.shared + state.pending >= self.limit:
                left = state.window_started_at + self.window - now
                return max(1, math.ceil(left.total_seconds()))
            state.pending += 1
            stale = time.monotonic() - state.synced_at >= self.sync_seconds
            if state.pending >= self.batch or stale:
                self._sync(bucket, state)
            if len(self._buckets) > 10_000:
                self._forget_old(now)
        return 0

    def _sync(self, bucket: str, state: _Bucket) -> None:
        """Add our pending hits to the shared row (starting a new window if it has ended)."""
        with Session(self.engine) as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            now = utcnow()
            session.execute(
                insert(VerificationCounter)
                .values(bucket=bucket, window_started_at=now, hits=0)
                .on_conflict_do_nothing(index_elements=["bucket"])
            )
            session.execute(
                update(VerificationCounter)
                .where(
                    VerificationCounter.bucket == bucket,
                    VerificationCounter.window_started_at <= now - self.window,
                )
                .values(window_started_at=now, hits=0)
            )
            session.execute(
                update(VerificationCounter)
                .where(VerificationCounter.bucket == bucket)
                .values(hits=VerificationCounter.hits + state.pending)
            )
            row = session.execute(
                select(VerificationCounter.hits, VerificationCounter.window_started_at).where(
                    VerificationCounter.bucket == bucket
                )
            ).one()
        state.shared, state.window_started_at = row.hits, row.window_started_at
        state.pending = 0
        state.synced_at = time.monotonic()

    def _forget_old(self, now: datetime) -> None:
        for key in [
            k for k, v in self._buckets.items() if now - v.window_started_at >= self.window
        ]:
            del self._buckets[key]
