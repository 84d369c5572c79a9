"""Group commit: writes queued together share one transaction, yet each caller gets its own
outcome, and nobody hears "saved" for a write that was not committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.store import Database, connect
from app.store.groupcommit import CommitFailed, GroupCommitter
from app.store.releases import ReleaseRecord


@pytest.fixture
def committer(settings: Settings) -> Iterator[tuple[Database, GroupCommitter]]:
    database = connect(settings)
    committer = GroupCommitter(database, max_batch=16)
    yield database, committer
    committer.close()
    database.dispose()


def _add_release(number: int) -> Callable[[Session], int]:
    def job(session: Session) -> int:
        record = ReleaseRecord(
            programme_id="group-commit",
            version=f"1.0.{number}",
            title="Group commit",
            content_hash=f"{number:064x}",
            payload=b"{}",
        )
        session.add(record)
        session.flush()
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

    def refuses(session: Session) -> None:
        _add_release(999)(session)  # written, then undone with its savepoint
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
