"""Lesson progress: what a trainee has completed, where they are, how long they have read.

Every write merges rather than overwrites, so a replayed or reordered write is harmless:
completed lessons are a set union (the earliest completion time is kept), the position is
the most recent one by time, and reading time is added in bounded amounts.

Time spent (no JavaScript, no heartbeat): when a trainee opens a lesson or marks one
complete, the time since their previous such event is credited to the lesson they were on,
capped at `VISIT_CAP` so a phone left open overnight counts as one visit's worth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.compiler import CompiledModule, Release
from app.store.base import UTCDateTime, utcnow
from app.store.learning import Enrolment, LessonProgress
from app.store.prepared import Connectable, HasId, Prepared, RawConnection, raw_connection_of

VISIT_CAP = timedelta(minutes=20)
MAX_REPORTED_SECONDS = 3600

LessonKey = tuple[str, str]
Status = Literal["not-started", "in-progress", "completed"]
STATUS_WORDS: dict[str, str] = {
    "not-started": "Not started",
    "in-progress": "In progress",
    "completed": "Completed",
}


@dataclass(frozen=True)
class ModuleProgress:
    module: CompiledModule
    completed: int
    total: int
    status: Status
    waiting_for: list[CompiledModule] = field(default_factory=list)

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[self.status]

    @property
    def locked(self) -> bool:
        return bool(self.waiting_for)


@dataclass(frozen=True)
class Progress:
    """A trainee's progress through the release they are on."""

    release: Release
    modules: list[ModuleProgress]
    completed: frozenset[LessonKey]
    lessons_total: int
    completed_minutes: int  # the estimated minutes of the lessons completed
    seconds_spent: int  # time actually spent reading, by the rule above
    resume: LessonKey | None
    next_lesson: LessonKey | None

    @property
    def lessons_completed(self) -> int:
        return len(self.completed)

    @property
    def percent(self) -> int:
        if not self.lessons_total:
            return 0
        return (100 * self.lessons_completed) // self.lessons_total

    @property
    def finished(self) -> bool:
        return self.lessons_total > 0 and self.lessons_completed == self.lessons_total

    def module_progress(self, module_id: str) -> ModuleProgress:
        return next(m for m in self.modules if m.module.id == module_id)


@dataclass(frozen=True)
class LessonStanding:
    """What a lesson page needs of a trainee's progress: whether they completed the lesson,
    and the modules its module still waits for (as `Progress` says, for less work)."""

    done: bool
    waiting_for: list[CompiledModule]


_ROWS = Prepared(
    select(
        LessonProgress.module_id,
        LessonProgress.lesson_id,
        LessonProgress.completed_at,
        LessonProgress.seconds_spent,
    ).where(LessonProgress.enrolment_id == bindparam("enrolment"))
)
_COMPLETED = Prepared(
    select(LessonProgress.module_id, LessonProgress.lesson_id).where(
        LessonProgress.enrolment_id == bindparam("enrolment"),
        LessonProgress.completed_at.is_not(None),
    )
)
_WHERE = select(
    Enrolment.position_module_id, Enrolment.position_lesson_id, Enrolment.position_at
).where(Enrolment.id == bindparam("enrolment"))
_POSITION = Prepared(_WHERE)
# Writers lock the enrolment's row first (PostgreSQL; SQLite's writer holds the database lock).
_LOCKED_POSITION = Prepared(_WHERE.with_for_update())


def load_progress(session: Connectable, enrolment: HasId, release: Release) -> Progress:
    """A trainee's progress through their release, as stored (including this session's writes)."""
    connection = raw_connection_of(session)
    rows = _ROWS.rows(connection, enrolment=enrolment.id)
    position = _POSITION.first(connection, enrolment=enrolment.id)
    return progress_of(release, rows, (position[0], position[1]) if position else None)


def progress_of(
    release: Release,
    rows: list[tuple[Any, ...]],
    position: tuple[str | None, str | None] | None,
) -> Progress:
    """Progress from the stored rows: (module_id, lesson_id, completed_at, seconds_spent)."""
    completed = _completed_in(release, (row[:2] for row in rows if row[2] is not None))
    done_in = Counter(module_id for module_id, _ in completed)
    finished_modules = _finished_modules(release, done_in)
    modules: list[ModuleProgress] = []
    for module in release.modules:
        done, total = done_in[module.id], len(module.lessons)
        status: Status = (
            "completed"
            if module.id in finished_modules
            else "in-progress"
            if done
            else "not-started"
        )
        waiting_for = (
            _unfinished_prerequisites(release, module, finished_modules)
            if module.prerequisites
            else []
        )
        modules.append(ModuleProgress(module, done, total, status, waiting_for))
    locked = {m.module.id for m in modules if m.locked}
    next_lesson = next(
        (key for key in release.lesson_ids() if key not in completed and key[0] not in locked),
        None,
    )
    resume: LessonKey | None = None
    if position is not None and position[0] and position[1]:
        where = (position[0], position[1])
        resume = where if release.has_lesson(*where) else None
    return Progress(
        release=release,
        modules=modules,
        completed=completed,
        lessons_total=len(release.lesson_ids()),
        completed_minutes=sum(release.lesson_minutes(*key) for key in completed),
        seconds_spent=sum(row[3] for row in rows),
        resume=resume or next_lesson,
        next_lesson=next_lesson,
    )


def lesson_standing(
    session: Connectable,
    enrolment: HasId,
    release: Release,
    module: CompiledModule,
    lesson_id: str,
) -> LessonStanding:
    """Where a trainee stands on one lesson of their release, from the lessons they completed
    (one query; not the whole programme's progress, nor where they are)."""
    rows = _COMPLETED.rows(raw_connection_of(session), enrolment=enrolment.id)
    return standing_of(release, module, lesson_id, rows)


def standing_of(
    release: Release, module: CompiledModule, lesson_id: str, completed_keys: Iterable[Any]
) -> LessonStanding:
    """A lesson's standing, from the (module_id, lesson_id) of every lesson completed."""
    completed = _completed_in(release, completed_keys)
    waiting_for = []
    if module.prerequisites:
        done_in = Counter(module_id for module_id, _ in completed)
        finished = _finished_modules(release, done_in)
        waiting_for = _unfinished_prerequisites(release, module, finished)
    return LessonStanding((module.id, lesson_id) in completed, waiting_for)


def _completed_in(release: Release, keys: Iterable[Any]) -> frozenset[LessonKey]:
    """The release's lessons among these completed ones (others belong to another release)."""
    return frozenset(
        (module_id, lesson_id)
        for module_id, lesson_id in keys
        if release.has_lesson(module_id, lesson_id)
    )


def _finished_modules(release: Release, done_in: Counter[str]) -> set[str]:
    return {m.id for m in release.modules if m.lessons and done_in[m.id] == len(m.lessons)}


def _unfinished_prerequisites(
    release: Release, module: CompiledModule, finished: set[str]
) -> list[CompiledModule]:
    waiting = []
    for prerequisite in module.prerequisites:
        try:
            needed = release.module(prerequisite)
        except KeyError:
            continue  # a prerequisite the release no longer has cannot block anyone
        if prerequisite not in finished:
            waiting.append(needed)
    return waiting


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _record(dialect: str) -> Any:
    """Add reading time to a lesson and, if `at` is not null, complete it: completions are a
    set union that keeps the earliest time; seconds add up."""
    statement = _insert(dialect)(LessonProgress).values(
        enrolment_id=bindparam("enrolment"),
        module_id=bindparam("module"),
        lesson_id=bindparam("lesson"),
        seconds_spent=bindparam("seconds"),
        completed_at=bindparam("at", type_=UTCDateTime),
    )
    reported = statement.excluded.completed_at
    keep_earliest = case(
        (reported.is_(None), LessonProgress.completed_at),
        (
            LessonProgress.completed_at.is_(None) | (LessonProgress.completed_at > reported),
            reported,
        ),
        else_=LessonProgress.completed_at,
    )
    return statement.on_conflict_do_update(
        index_elements=["enrolment_id", "module_id", "lesson_id"],
        set_={
            "seconds_spent": LessonProgress.seconds_spent + statement.excluded.seconds_spent,
            "completed_at": keep_earliest,
        },
    )


_RECORD = Prepared(_record)
_MOVE = Prepared(
    update(Enrolment)
    .where(Enrolment.id == bindparam("enrolment"))
    .values(
        position_module_id=bindparam("module"),
        position_lesson_id=bindparam("lesson"),
        position_at=bindparam("at", type_=UTCDateTime),
    )
)
POSITION_FIELDS = ["position_module_id", "position_lesson_id", "position_at"]


def _move_to(
    session: Connectable, connection: RawConnection, enrolment: HasId, key: LessonKey, at: datetime
) -> None:
    _MOVE.run(connection, enrolment=enrolment.id, module=key[0], lesson=key[1], at=at)
    if isinstance(session, Session) and isinstance(enrolment, Enrolment) and enrolment in session:
        session.expire(enrolment, POSITION_FIELDS)  # its loaded copy is out of date now


def _credit_reading_time(
    connection: RawConnection, enrolment: HasId, now: datetime
) -> tuple[Any, ...] | None:
    """Lock the enrolment's row and credit the time since its last event to where it was."""
    position = _LOCKED_POSITION.first(connection, enrolment=enrolment.id)
    if position is None or not (position[0] and position[1] and position[2]):
        return position
    elapsed = min(now - position[2], VISIT_CAP).total_seconds()
    if elapsed >= 1:
        _RECORD.run(
            connection,
            enrolment=enrolment.id,
            module=position[0],
            lesson=position[1],
            seconds=int(elapsed),
            at=None,
        )
    return position


def record_visit(session: Connectable, enrolment: HasId, module_id: str, lesson_id: str) -> None:
    """The trainee opened a lesson: credit the time on the previous one, remember this one."""
    connection = raw_connection_of(session)
    now = utcnow()
    _credit_reading_time(connection, enrolment, now)
    _move_to(session, connection, enrolment, (module_id, lesson_id), now)


def mark_complete(session: Connectable, enrolment: HasId, module_id: str, lesson_id: str) -> None:
    """The trainee says they have finished a lesson (again is harmless)."""
    connection = raw_connection_of(session)
    now = utcnow()
    _credit_reading_time(connection, enrolment, now)
    _move_to(session, connection, enrolment, (module_id, lesson_id), now)
    _RECORD.run(
        connection, enrolment=enrolment.id, module=module_id, lesson=lesson_id, seconds=0, at=now
    )


@dataclass(frozen=True)
class ReportedProgress:
    """Progress sent by a client (e.g. an offline app catching up), to merge."""

    completed: list[tuple[LessonKey, datetime | None]] = field(default_factory=list)
    position: tuple[LessonKey, datetime] | None = None
    seconds: list[tuple[LessonKey, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Merged:
    """What merging reported progress did."""

    ignored: list[LessonKey]  # reported lessons that are not in the release
    progress: Progress  # the trainee's progress after the merge


def merge_progress(
    session: Connectable, enrolment: HasId, release: Release, report: ReportedProgress
) -> Merged:
    """Merge reported progress; returns the lessons that were ignored (not in the release)
    and the progress after the merge."""
    connection = raw_connection_of(session)
    position = _LOCKED_POSITION.first(connection, enrolment=enrolment.id)
    now = utcnow()
    unknown: list[LessonKey] = []
    # Per lesson: the earliest completion reported and the time reported (each report capped
    # at MAX_REPORTED_SECONDS), written in one statement.
    lessons: dict[LessonKey, tuple[datetime | None, int]] = {}
    for key, at in report.completed:
        if not release.has_lesson(*key):
            unknown.append(key)
            continue
        when = min(at or now, now)
        earliest, seconds = lessons.get(key, (None, 0))
        lessons[key] = (when if earliest is None else min(earliest, when), seconds)
    for key, reported in report.seconds:
        if not release.has_lesson(*key):
            unknown.append(key)
            continue
        earliest, seconds = lessons.get(key, (None, 0))
        lessons[key] = (earliest, seconds + max(0, min(reported, MAX_REPORTED_SECONDS)))
    for (module_id, lesson_id), (earliest, seconds) in lessons.items():
        _RECORD.run(
            connection,
            enrolment=enrolment.id,
            module=module_id,
            lesson=lesson_id,
            seconds=seconds,
            at=earliest,
        )
    where = (position[0], position[1]) if position else None
    if report.position is not None:
        key, at = report.position
        at = min(at, now)
        if not release.has_lesson(*key):
            unknown.append(key)
        elif position is not None and (position[2] is None or at > position[2]):
            _move_to(session, connection, enrolment, key, at)
            where = key
    # The position is known from here (this transaction holds the enrolment's row).
    rows = _ROWS.rows(connection, enrolment=enrolment.id)
    return Merged(sorted(set(unknown)), progress_of(release, rows, where))
