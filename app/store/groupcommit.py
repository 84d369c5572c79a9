"""Group commit: many small writes, one transaction, one fsync, then every caller is answered.

SQLite allows one writer at a time, and with `synchronous=FULL` every commit waits for the disk.
Committing each request's write on its own therefore caps a process at one fsync per write and
makes every other writer queue behind it. Here one thread per process owns the write
connection: it takes every job waiting in its queue (up to `max_batch`), runs each in a
SAVEPOINT of one transaction (so a job that fails is undone alone, and its caller gets its
error), commits once, and only then answers the callers whose jobs succeeded.

The durability contract holds: no caller hears "done" before the commit that holds its change
has returned. If that commit fails, every job of the batch gets the error and none is answered
as done.

Jobs run on the writer thread one after another, so they must be short and only touch the
database: compute and render outside, write inside.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.store.db import Database

log = logging.getLogger("peerpath.store")

T = TypeVar("T")
Job = Callable[[Session], Any]


class CommitFailed(RuntimeError):
    """The transaction holding this write could not be committed; nothing was saved."""


@dataclass
class _Pending:
    job: Job
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


_STOP = object()


class GroupCommitter:
    """One writer thread for a process, committing queued jobs in batches."""

    def __init__(self, database: Database, *, max_batch: int = 64) -> None:
        self.database = database
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="peerpath-group-commit", daemon=True)
        self._thread.start()

    async def run(self, job: Callable[[Session], T]) -> T:
        """Run `job` in the next batch; returns its result once the batch is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Pending(job, loop, future))
        return await future

    def close(self) -> None:
        """Finish the jobs already queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Pending] = [first]  # type: ignore[list-item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Pending]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.database.session(write=True) as session:
                for pending in batch:
                    savepoint = session.begin_nested()
                    try:
                        result = pending.job(session)
                        savepoint.commit()
                        outcomes.append((True, result))
                    except Exception as error:  # the job's own failure: undo it alone
                        savepoint.rollback()
                        outcomes.append((False, error))
                    # The next job must not see objects loaded by this one.
                    session.expunge_all()
                session.commit()
        except Exception as error:
            log.exception("a group commit of %d writes failed; none was saved", len(batch))
            failure = CommitFailed("The change could not be saved. Please try again.")
            failure.__cause__ = error
            outcomes = [(False, failure)] * len(batch)
        for pending, (ok, value) in zip(batch, outcomes, strict=True):
            pending.loop.call_soon_threadsafe(_settle, pending.future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
