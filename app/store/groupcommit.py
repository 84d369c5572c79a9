"""Group commit: many small writes, one transaction, one fsync, then every caller is answered.

SQLite allows one writer at a time, and with `synchronous=FULL` every commit waits for the disk.
Committing each request's write on its own therefore caps a process at one fsync per write and
makes every other writer queue behind it. Here one thread per process owns the write
connection: it takes every job waiting in its queue (up to `max_batch`), runs each in a
SAVEPOINT of one transaction (so a job that fails is undone alone, and its caller gets its
error), commits once, and only then answers the callers whose jobs succeeded.

Jobs get the DB-API connection itself (a `RawConnection`) and write with prepared statements
(app/store/prepared.py): an ORM session and its savepoint bookkeeping would cost more than
the writes.

The durability contract holds: no caller hears "done" before the commit that holds its change
has returned. If that commit fails, every job of the batch gets the error and none is answered
as done.

Jobs run on the writer thread one after another, so they must be short and only touch the
database: compute and render outside, write inside.

With several server processes on one database file, their writer threads take turns through
an advisory lock on a file beside it (`<database>-writers.lock`, `flock`) before `BEGIN
IMMEDIATE`. Without it they would meet at SQLite's own lock, whose busy handler polls with
sleeps of up to 100 ms: the process that just committed usually wins again, and the other's
writes wait for seconds. A blocked `flock` is woken as soon as the holder lets go.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.store.db import Database
from app.store.prepared import RawConnection

try:
    import fcntl
except ImportError:  # not POSIX: one server process per database file
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("peerpath.store")

T = TypeVar("T")
Job = Callable[[RawConnection], Any]


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
        if database.writer.dialect.name != "sqlite":
            raise ValueError("group commit is for SQLite's single writer")
        self.database = database
        self.max_batch = max_batch
        self._turns = _writers_lock(database.writer.url.database)
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        # The writer thread's own connection, kept between batches (checking one out of the
        # pool and back costs a rollback each time); given back after a failed batch.
        self._pooled: Any = None
        self._thread = threading.Thread(target=self._run, name="peerpath-group-commit", daemon=True)
        self._thread.start()

    async def run(self, job: Callable[[RawConnection], T]) -> T:
        """Run `job` in the next batch; returns its result once the batch is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Pending(job, loop, future))
        return await future

    def close(self) -> None:
        """Finish the jobs already queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)
        if self._turns is not None:
            os.close(self._turns)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._give_back()
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
                self._give_back()
                return

    def _commit(self, batch: list[_Pending]) -> None:
        engine = self.database.writer
        try:
            if self._pooled is None:
                self._pooled = engine.raw_connection()
            connection = RawConnection(self._pooled.dbapi_connection, engine.dialect)
            if self._turns is None:
                outcomes = _run_batch(connection, batch)
            else:
                fcntl.flock(self._turns, fcntl.LOCK_EX)  # this process's turn to write
                try:
                    outcomes = _run_batch(connection, batch)
                finally:
                    fcntl.flock(self._turns, fcntl.LOCK_UN)
        except Exception as error:
            log.exception("a group commit of %d writes failed; none was saved", len(batch))
            self._give_back()
            failure = CommitFailed("The change could not be saved. Please try again.")
            failure.__cause__ = error
            outcomes = [(False, failure)] * len(batch)
        # One wake-up of each waiting event loop for the whole batch, not one per write.
        answers: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for pending, (ok, value) in zip(batch, outcomes, strict=True):
            answers.setdefault(pending.loop, []).append((pending.future, ok, value))
        for loop, settled in answers.items():
            loop.call_soon_threadsafe(_settle_all, settled)

    def _give_back(self) -> None:
        """Return the thread's connection to the pool (which rolls back anything left open)."""
        pooled, self._pooled = self._pooled, None
        if pooled is not None:
            try:
                pooled.close()
            except Exception:
                log.exception("could not return the group commit's connection to the pool")


def _writers_lock(database: str | None) -> int | None:
    """The open lock file the writer threads of every process on this database take turns
    with; None for a database in memory (one process) or without `flock`."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.open(f"{database}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)


def _run_batch(connection: RawConnection, batch: list[_Pending]) -> list[tuple[bool, Any]]:
    """One transaction, a savepoint per job; raises if the transaction cannot be committed."""
    sql = connection.dbapi.execute
    outcomes: list[tuple[bool, Any]] = []
    sql("BEGIN IMMEDIATE")
    try:
        for pending in batch:
            sql("SAVEPOINT job")
            try:
                outcomes.append((True, pending.job(connection)))
            except Exception as error:  # the job's own failure: undo it alone
                sql("ROLLBACK TO job")
                outcomes.append((False, error))
            sql("RELEASE job")
        sql("COMMIT")
    except BaseException:
        if connection.dbapi.in_transaction:
            sql("ROLLBACK")
        raise
    return outcomes


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
