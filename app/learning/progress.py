"""Lesson progress: what a trainee has completed, where they are, how long they have read.

Every write merges rather than overwrites, so a replayed or reordered write is harmless:
completed lessons are a set union (the earliest completion time is kept), the position is
the most recent one by time, and reading time is added in bounded amounts.

Time spent (no JavaScript, no heartbeat): when a trainee opens a lesson or marks one
complete, the time since their previous such event is credited to the lesson they were on,
capped at `VISIT_CAP` so a phone left open overnight counts as one visit's worth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.compiler import CompiledModule, Release
from app.store.base import utcnow
from app.store.learning import Enrolment, LessonProgress

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


def load_progress(session: Session, enrolment: Enrolment, release: Release) -> Progress:
    rows = session.scalars(
        select(LessonProgress).where(LessonProgress.enrolment_id == enrolment.id)
    ).all()
    in_release = set(release.lesson_ids())
    completed = frozenset(
        (r.module_id, r.lesson_id)
        for r in rows
        if r.completed_at is not None and (r.module_id, r.lesson_id) in in_release
    )
    modules: list[ModuleProgress] = []
    finished_modules: set[str] = set()
    for module in release.modules:
        done = sum((module.id, lesson.id) in completed for lesson in module.lessons)
        total = len(module.lessons)
        status: Status = (
            "completed" if total and done == total else "in-progress" if done else "not-started"
        )
        if status == "completed":
            finished_modules.add(module.id)
        modules.append(ModuleProgress(module, done, total, status))
    modules = [
        ModuleProgress(
            m.module,
            m.completed,
            m.total,
            m.status,
            waiting_for=_unfinished_prerequisites(release, m.module, finished_modules),
        )
        for m in modules
    ]
    locked = {m.module.id for m in modules if m.locked}
    next_lesson = next(
        (key for key in release.lesson_ids() if key not in completed and key[0] not in locked),
        None,
    )
    resume: LessonKey | None = None
    if enrolment.position_module_id and enrolment.position_lesson_id:
        position = (enrolment.position_module_id, enrolment.position_lesson_id)
        resume = position if position in in_release else None
    minutes = {(m.id, lesson.id): lesson.minutes for m in release.modules for lesson in m.lessons}
    return Progress(
        release=release,
        modules=modules,
        completed=completed,
        lessons_total=len(in_release),
        completed_minutes=sum(minutes[key] for key in completed),
        seconds_spent=sum(r.seconds_spent for r in rows),
        resume=resume or next_lesson,
        next_lesson=next_lesson,
    )


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


def _lesson_row(
    session: Session, enrolment_id: int, module_id: str, lesson_id: str
) -> LessonProgress:
    """The lesson's progress row, created if missing, locked for this transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LessonProgress)
        .values(
            enrolment_id=enrolment_id,
            module_id=module_id,
            lesson_id=lesson_id,
            seconds_spent=0,
            completed_at=None,
        )
        .on_conflict_do_nothing(index_elements=["enrolment_id", "module_id", "lesson_id"])
    )
    return session.scalars(
        select(LessonProgress)
        .where(
            LessonProgress.enrolment_id == enrolment_id,
            LessonProgress.module_id == module_id,
            LessonProgress.lesson_id == lesson_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _lock(session: Session, enrolment: Enrolment) -> Enrolment:
    return session.scalars(
        select(Enrolment)
        .where(Enrolment.id == enrolment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _credit_reading_time(session: Session, enrolment: Enrolment, now: datetime) -> None:
    if not (
        enrolment.position_module_id and enrolment.position_lesson_id and enrolment.position_at
    ):
        return
    elapsed = min(now - enrolment.position_at, VISIT_CAP).total_seconds()
    if elapsed >= 1:
        row = _lesson_row(
            session, enrolment.id, enrolment.position_module_id, enrolment.position_lesson_id
        )
        row.seconds_spent += int(elapsed)


def record_visit(session: Session, enrolment: Enrolment, module_id: str, lesson_id: str) -> None:
    """The trainee opened a lesson: credit the time on the previous one, remember this one."""
    enrolment = _lock(session, enrolment)
    now = utcnow()
    _credit_reading_time(session, enrolment, now)
    enrolment.position_module_id, enrolment.position_lesson_id = module_id, lesson_id
    enrolment.position_at = now


def mark_complete(session: Session, enrolment: Enrolment, module_id: str, lesson_id: str) -> None:
    """The trainee says they have finished a lesson (again is harmless)."""
    enrolment = _lock(session, enrolment)
    now = utcnow()
    _credit_reading_time(session, enrolment, now)
    enrolment.position_module_id, enrolment.position_lesson_id = module_id, lesson_id
    enrolment.position_at = now
    row = _lesson_row(session, enrolment.id, module_id, lesson_id)
    if row.completed_at is None or row.completed_at > now:
        row.completed_at = now


@dataclass(frozen=True)
class ReportedProgress:
    """Progress sent by a client (e.g. an offline app catching up), to merge."""

    completed: list[tuple[LessonKey, datetime | None]] = field(default_factory=list)
    position: tuple[LessonKey, datetime] | None = None
    seconds: list[tuple[LessonKey, int]] = field(default_factory=list)


def merge_progress(
    session: Session, enrolment: Enrolment, release: Release, report: ReportedProgress
) -> list[LessonKey]:
    """Merge reported progress; returns lessons that are not in the release (and were ignored)."""
    enrolment = _lock(session, enrolment)
    known = set(release.lesson_ids())
    now = utcnow()
    unknown: list[LessonKey] = []
    rows: dict[LessonKey, LessonProgress] = {}

    def row_of(key: LessonKey) -> LessonProgress:
        if key not in rows:
            rows[key] = _lesson_row(session, enrolment.id, *key)
        return rows[key]

    for key, at in report.completed:
        if key not in known:
            unknown.append(key)
            continue
        when = min(at or now, now)
        row = row_of(key)
        if row.completed_at is None or row.completed_at > when:
            row.completed_at = when
    for key, seconds in report.seconds:
        if key not in known:
            unknown.append(key)
            continue
        row_of(key).seconds_spent += max(0, min(seconds, MAX_REPORTED_SECONDS))
    if report.position is not None:
        key, at = report.position
        at = min(at, now)
        if key not in known:
            unknown.append(key)
        elif enrolment.position_at is None or at > enrolment.position_at:
            enrolment.position_module_id, enrolment.position_lesson_id = key
            enrolment.position_at = at
    return sorted(set(unknown))
