"""A cohort at a glance: each trainee's module progress, competency levels and who is stuck.

The page, the JSON API and the CSV export all read one `CohortDashboard`, so they always
show the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import learning
from app.assessment import enrolment_standing
from app.catalog import load_release
from app.compiler import Release
from app.scoring.competence import LEVEL_LABELS
from app.store.assessment import Attempt, RolePlayRating, RolePlaySession
from app.store.base import utcnow
from app.store.certificates import Certificate
from app.store.learning import Cohort, Enrolment, LessonProgress, Reflection
from app.training.cohorts import Member, members

DEFAULT_STUCK_DAYS = 7
MAX_STUCK_DAYS = 365

MODULE_SYMBOLS = {"completed": "✓", "in-progress": "◐", "not-started": "○", "absent": "–"}
MODULE_WORDS = {
    "completed": "done",
    "in-progress": "started",
    "not-started": "not started",
    "absent": "not in their version",
}


@dataclass(frozen=True)
class ModuleCell:
    """One trainee's progress through one module."""

    module_id: str
    completed: int
    total: int
    status: str  # completed | in-progress | not-started | absent

    @property
    def symbol(self) -> str:
        return MODULE_SYMBOLS[self.status]

    @property
    def label(self) -> str:
        """What the cell says in words (the page and the CSV print exactly this)."""
        if self.status == "absent":
            return MODULE_WORDS["absent"]
        return f"{self.completed}/{self.total} {MODULE_WORDS[self.status]}"


@dataclass(frozen=True)
class CompetencyCell:
    competency_id: str
    level: str  # in words, e.g. "Not yet assessed", "competent"

    @property
    def css(self) -> str:
        return "level-" + self.level.lower().replace(" ", "-")


@dataclass(frozen=True)
class TraineeRow:
    user_id: int
    name: str
    email: str
    enrolment_id: int
    release_version: str
    lessons_completed: int
    lessons_total: int
    completed_minutes: int
    last_activity: datetime
    days_inactive: int
    modules: list[ModuleCell]
    competencies: list[CompetencyCell]
    stuck_reasons: list[str] = field(default_factory=list)
    failed_attempts: int = 0
    certificate_id: str = ""
    certificate_status: str = ""

    @property
    def percent(self) -> int:
        return (100 * self.lessons_completed) // self.lessons_total if self.lessons_total else 0

    @property
    def stuck(self) -> bool:
        return bool(self.stuck_reasons)

    @property
    def hours(self) -> str:
        return f"{self.completed_minutes / 60:.1f}"


@dataclass(frozen=True)
class ModuleSummary:
    """How many trainees have done, started or not started one module (for the chart)."""

    module_id: str
    title: str
    completed: int
    in_progress: int
    not_started: int

    @property
    def total(self) -> int:
        return self.completed + self.in_progress + self.not_started


@dataclass(frozen=True)
class Column:
    id: str
    title: str


@dataclass(frozen=True)
class CohortDashboard:
    cohort: Cohort
    release: Release
    modules: list[Column]
    competencies: list[Column]
    rows: list[TraineeRow]
    summary: list[ModuleSummary]
    stuck_days: int
    generated_at: datetime

    @property
    def stuck(self) -> list[TraineeRow]:
        return [row for row in self.rows if row.stuck]


def stuck_days_from(value: str | None) -> int:
    """The "no activity for N days" threshold from a query parameter (default 7, 1–365)."""
    try:
        days = int(value) if value not in (None, "") else DEFAULT_STUCK_DAYS
    except ValueError:
        return DEFAULT_STUCK_DAYS
    return max(1, min(MAX_STUCK_DAYS, days))


def cohort_dashboard(
    session: Session,
    cohort: Cohort,
    *,
    stuck_days: int = DEFAULT_STUCK_DAYS,
    now: datetime | None = None,
) -> CohortDashboard:
    """Everything the cohort page shows, computed with a handful of queries."""
    now = now or utcnow()
    release = load_release(session, cohort.release_id)
    people = members(session, cohort)
    ids = [m.enrolment.id for m in people]
    progress = _progress_rows(session, ids)
    attempts = _attempts(session, ids)
    certificates = _certificates(session, ids)
    rated = _rated(session, ids)
    rows = [
        _trainee_row(
            session,
            member,
            progress.get(member.enrolment.id, []),
            attempts.get(member.enrolment.id, []),
            certificates.get(member.enrolment.id),
            member.enrolment.id in rated,
            cohort,
            release,
            now,
            stuck_days,
        )
        for member in people
    ]
    summary = []
    for index, module in enumerate(release.modules):
        cells = [row.modules[index] for row in rows]
        summary.append(
            ModuleSummary(
                module.id,
                module.title,
                completed=sum(c.status == "completed" for c in cells),
                in_progress=sum(c.status == "in-progress" for c in cells),
                not_started=sum(c.status in ("not-started", "absent") for c in cells),
            )
        )
    return CohortDashboard(
        cohort=cohort,
        release=release,
        modules=[Column(m.id, m.title) for m in release.modules],
        competencies=[Column(c.id, c.name) for c in release.programme.competencies],
        rows=rows,
        summary=summary,
        stuck_days=stuck_days,
        generated_at=now,
    )


def _progress_rows(session: Session, enrolment_ids: list[int]) -> dict[int, list[LessonProgress]]:
    found: dict[int, list[LessonProgress]] = defaultdict(list)
    if not enrolment_ids:
        return found
    for row in session.scalars(
        select(LessonProgress).where(LessonProgress.enrolment_id.in_(enrolment_ids))
    ):
        found[row.enrolment_id].append(row)
    return found


def _attempts(session: Session, enrolment_ids: list[int]) -> dict[int, list[Attempt]]:
    """Submitted attempts per enrolment, oldest first."""
    found: dict[int, list[Attempt]] = defaultdict(list)
    if not enrolment_ids:
        return found
    for attempt in session.scalars(
        select(Attempt)
        .where(Attempt.enrolment_id.in_(enrolment_ids), Attempt.submitted_at.is_not(None))
        .order_by(Attempt.submitted_at, Attempt.id)
    ):
        found[attempt.enrolment_id].append(attempt)
    return found


def _certificates(session: Session, enrolment_ids: list[int]) -> dict[int, Certificate]:
    """Each enrolment's newest certificate version (issued, revoked or superseded)."""
    found: dict[int, Certificate] = {}
    if not enrolment_ids:
        return found
    for certificate in session.scalars(
        select(Certificate)
        .where(Certificate.enrolment_id.in_(enrolment_ids))
        .order_by(Certificate.issued_at, Certificate.id)
    ):
        assert certificate.enrolment_id is not None
        found[certificate.enrolment_id] = certificate
    return found


def _rated(session: Session, enrolment_ids: list[int]) -> set[int]:
    """Enrolments with at least one rated role-play."""
    if not enrolment_ids:
        return set()
    return set(
        session.scalars(
            select(RolePlaySession.enrolment_id)
            .join(RolePlayRating, RolePlayRating.session_id == RolePlaySession.id)
            .where(RolePlaySession.enrolment_id.in_(enrolment_ids))
            .distinct()
        )
    )


def failing_assessments(attempts: list[Attempt]) -> list[str]:
    """Assessments whose latest submitted attempt did not pass."""
    latest: dict[str, Attempt] = {}
    for attempt in attempts:
        latest[attempt.assessment_id] = attempt
    return [aid for aid, attempt in latest.items() if attempt.passed is False]


def competency_levels(session: Session, enrolment: Enrolment) -> dict[str, str]:
    """Each competency's level in words ("Not yet assessed" where there is no evidence)."""
    standing = enrolment_standing(session, enrolment)
    return {
        cid: LEVEL_LABELS[result.level] if standing.assessed(cid) else learning.NOT_YET_ASSESSED
        for cid, result in standing.levels.items()
    }


def _trainee_row(
    session: Session,
    member: Member,
    rows: list[LessonProgress],
    attempts: list[Attempt],
    certificate: Certificate | None,
    rated: bool,
    cohort: Cohort,
    cohort_release: Release,
    now: datetime,
    stuck_days: int,
) -> TraineeRow:
    enrolment = member.enrolment
    # A trainee may have moved to a newer release than the cohort's: count their own lessons.
    release = (
        cohort_release
        if enrolment.release_id == cohort.release_id
        else load_release(session, enrolment.release_id)
    )
    in_release = set(release.lesson_ids())
    completed = {
        (r.module_id, r.lesson_id)
        for r in rows
        if r.completed_at is not None and (r.module_id, r.lesson_id) in in_release
    }
    cells = []
    for column in cohort_release.modules:
        try:
            module = release.module(column.id)
        except KeyError:
            cells.append(ModuleCell(column.id, 0, 0, "absent"))
            continue
        total = len(module.lessons)
        done = sum((module.id, lesson.id) in completed for lesson in module.lessons)
        status = (
            "completed" if total and done == total else "in-progress" if done else "not-started"
        )
        cells.append(ModuleCell(module.id, done, total, status))
    minutes = {(m.id, lesson.id): lesson.minutes for m in release.modules for lesson in m.lessons}
    moments = [enrolment.enrolled_at, enrolment.position_at]
    moments += [r.completed_at for r in rows]
    moments += [a.submitted_at for a in attempts]
    last = max(m for m in moments if m is not None)
    days_inactive = max(0, (now - last) // timedelta(days=1))
    finished = bool(in_release) and len(completed) == len(in_release)
    # Levels come only from submitted attempts and rated role-plays: without either, every
    # competency is "not yet assessed" and the (costlier) standing need not be worked out.
    levels = competency_levels(session, enrolment) if attempts or rated else {}
    reasons = []
    if days_inactive >= stuck_days and not finished:
        reasons.append(f"no activity for {days_inactive} days")
    failing = failing_assessments(attempts)
    if failing:
        titles = [release.assessments[a].title if a in release.assessments else a for a in failing]
        reasons.append(f"latest attempt not passed: {', '.join(titles)}")
    return TraineeRow(
        user_id=member.user.id,
        name=member.user.display_name,
        email=member.user.email,
        enrolment_id=enrolment.id,
        release_version=release.version,
        lessons_completed=len(completed),
        lessons_total=len(in_release),
        completed_minutes=sum(minutes[key] for key in completed),
        last_activity=last,
        days_inactive=days_inactive,
        modules=cells,
        competencies=[
            CompetencyCell(c.id, levels.get(c.id, learning.NOT_YET_ASSESSED))
            for c in cohort_release.programme.competencies
        ],
        stuck_reasons=reasons,
        failed_attempts=sum(a.passed is False for a in attempts),
        certificate_id=certificate.public_id if certificate else "",
        certificate_status=certificate.status if certificate else "none",
    )


def shared_reflections(session: Session, enrolment_id: int) -> list[Reflection]:
    """The reflections a trainee chose to share with their trainer (never the private ones)."""
    return list(
        session.scalars(
            select(Reflection)
            .where(
                Reflection.enrolment_id == enrolment_id, Reflection.shared_with_trainer.is_(True)
            )
            .order_by(Reflection.module_id, Reflection.lesson_id, Reflection.prompt_id)
        )
    )
