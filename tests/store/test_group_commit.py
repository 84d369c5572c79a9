"""Group commit: writes queued together share one transaction, yet each caller gets its own
outcome, and nobody hears "saved" for a write that was not committed."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import bindparam, func, insert, select

from app.config import Settings
from app.store import Database, connect
from app.store.base import utcnow
from app.store.groupcommit import CommitFailed, GroupCommitter
from app.store.prepared import Prepared, RawConnection
from app.store.releases import ReleaseRecord
from tests.conftest import ON_POSTGRES

# The group commit serves SQLite's single writer; PostgreSQL commits each request on its own.
pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="group commit is for SQLite")


@pytest.fixture
def committer(settings: Settings) -> Iterator[tuple[Database, GroupCommitter]]:
    database = connect(settings)
    committer = GroupCommitter(database, max_batch=16)
    yield database, committer
    committer.close()
    database.dispose()


_ADD_RELEASE = Prepared(
    insert(ReleaseRecord).values(
        programme_id="group-commit",
        version=bindparam("version"),
        title="Group commit",
        content_hash=bindparam("content_hash"),
        payload=b"{}",
        changelog="",
        published_at=bindparam("at"),
    )
)


def _add_release(number: int) -> Callable[[RawConnection], int]:
    def job(connection: RawConnection) -> int:
        _ADD_RELEASE.run(
            connection, version=f"1.0.{number}", content_hash=f"{number:064x}", at=utcnow()
        )
        return number

    return job


def _count(database: Database) -> int:
    with database.unit_of_work(write=False) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ReleaseRecord)
                .where(ReleaseRecord.programme_id == "group-commit")
            )
            or 0
        )


def test_every_queued_write_is_saved_and_answered(
    committer: tuple[Database, GroupCommitter],
) -> None:
    database, writer = committer

    async def many() -> list[int]:
        return await asyncio.gather(*(writer.run(_add_release(n)) for n in range(40)))

    assert asyncio.run(many()) == list(range(40))
    assert _count(database) == 40


def test_a_failing_write_is_undone_alone_and_its_caller_gets_the_error(
    committer: tuple[Database, GroupCommitter],
) -> None:
    database, writer = committer

    def refuses(connection: RawConnection) -> None:
        _add_release(999)(connection)  # written, then undone with its savepoint
        raise ValueError("this write is refused")

    async def mixed() -> list[object]:
        return await asyncio.gather(
            writer.run(_add_release(1)),
            writer.run(refuses),
            writer.run(_add_release(2)),
            return_exceptions=True,
        )

    first, refused, second = asyncio.run(mixed())
    assert (first, second) == (1, 2)
    assert isinstance(refused, ValueError) and "refused" in str(refused)
    with database.unit_of_work(write=False) as session:
        versions = set(
            session.scalars(
                select(ReleaseRecord.version).where(ReleaseRecord.programme_id == "group-commit")
            )
        )
    assert versions == {"1.0.1", "1.0.2"}


def test_a_write_that_breaks_a_constraint_does_not_sink_the_batch(
    committer: tuple[Database, GroupCommitter],
) -> None:
    database, writer = committer

    async def duplicate() -> list[object]:
        return await asyncio.gather(
            writer.run(_add_release(7)),
            writer.run(_add_release(7)),  # the same content hash again: a unique violation
            writer.run(_add_release(8)),
            return_exceptions=True,
        )

    outcomes = asyncio.run(duplicate())
    assert outcomes[0] == 7 and outcomes[2] == 8
    assert isinstance(outcomes[1], Exception) and not isinstance(outcomes[1], CommitFailed)
    assert _count(database) == 2


def test_closing_finishes_the_writes_already_queued(settings: Settings) -> None:
    database = connect(settings)
    writer = GroupCommitter(database)

    async def queue_then_close() -> list[int]:
        pending = [asyncio.ensure_future(writer.run(_add_release(n))) for n in range(5)]
        await asyncio.sleep(0)  # let them reach the queue
        await asyncio.to_thread(writer.close)
        return await asyncio.gather(*pending)

    assert asyncio.run(queue_then_close()) == list(range(5))
    assert _count(database) == 5
    database.dispose()


def test_a_commit_that_fails_fails_every_write_in_it(
    committer: tuple[Database, GroupCommitter],
) -> None:
    database, writer = committer

    def orphan(connection: RawConnection) -> None:
        # A foreign key checked only when the transaction commits: the COMMIT itself fails.
        connection.dbapi.execute("PRAGMA defer_foreign_keys = ON")
        connection.dbapi.execute(
            "INSERT INTO lesson_progress (enrolment_id, module_id, lesson_id, seconds_spent)"
            " VALUES (987654, 'm', 'l', 0)"
        )

    queued = threading.Event()

    async def batch() -> list[object]:
        # The writer is kept busy until all three are queued, so they share one batch.
        busy = asyncio.ensure_future(writer.run(lambda _: queued.wait(10)))
        await asyncio.sleep(0.05)
        jobs = [writer.run(_add_release(1)), writer.run(orphan), writer.run(_add_release(2))]
        together = asyncio.gather(*jobs, return_exceptions=True)
        await asyncio.sleep(0)
        queued.set()
        await busy
        return await together

    outcomes = asyncio.run(batch())
    assert all(isinstance(outcome, CommitFailed) for outcome in outcomes), outcomes
    assert _count(database) == 0
    assert asyncio.run(writer.run(_add_release(3))) == 3  # the next batch is not affected
    assert _count(database) == 1


def test_server_processes_on_one_file_take_turns_to_write(settings: Settings) -> None:
    """A second process's writer (here: a second database and committer on the same file)
    waits for its turn at the writers' lock file, then commits; every write of both lands."""
    first, second = connect(settings), connect(settings)
    writers = [GroupCommitter(first), GroupCommitter(second)]
    path = f"{first.writer.url.database}-writers.lock"
    turn = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(turn, fcntl.LOCK_EX)  # another process is writing

        async def while_the_other_writes() -> list[int]:
            pending = [asyncio.ensure_future(w.run(_add_release(n))) for n, w in enumerate(writers)]
            await asyncio.sleep(0.3)
            assert not any(p.done() for p in pending) and _count(first) == 0  # they wait
            fcntl.flock(turn, fcntl.LOCK_UN)
            more = [writers[n % 2].run(_add_release(n)) for n in range(2, 40)]
            return await asyncio.gather(*pending, *more)

        assert sorted(asyncio.run(while_the_other_writes())) == list(range(40))
        assert _count(second) == 40
    finally:
        os.close(turn)
        for writer in writers:
            writer.close()
        first.dispose()
        second.dispose()
