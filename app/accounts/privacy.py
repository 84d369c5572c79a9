"""A person's data: everything we hold about them as JSON, and deleting their account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.sessions import end_all_sessions
from app.store.accounts import User
from app.store.base import utcnow
from app.store.learning import Cohort, Enrolment, IdempotencyRecord, LessonProgress, Reflection

RetentionCheck = Callable[[Session, int], bool]

# Checks that say a user row must be kept (anonymised) rather than dropped: an issued
# certificate needs its holder's row for verification. `app.credentials` adds its check here.
RETENTION_CHECKS: list[RetentionCheck] = []


def _runs_cohorts(session: Session, user_id: int) -> bool:
    return (
        session.scalars(select(Cohort.id).where(Cohort.trainer_id == user_id)).first() is not None
    )


RETENTION_CHECKS.append(_runs_cohorts)


def export_user_data(session: Session, user: User) -> dict[str, Any]:
    """Everything PeerPath holds about this person, in one JSON-ready document."""
    enrolments = session.scalars(
        select(Enrolment).where(Enrolment.user_id == user.id).order_by(Enrolment.id)
    ).all()
    return {
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "created_at": user.created_at.isoformat(),
        },
        "enrolments": [_export_enrolment(session, enrolment) for enrolment in enrolments],
        "exported_at": utcnow().isoformat(),
    }


def _export_enrolment(session: Session, enrolment: Enrolment) -> dict[str, Any]:
    progress = session.scalars(
        select(LessonProgress)
        .where(LessonProgress.enrolment_id == enrolment.id)
        .order_by(LessonProgress.module_id, LessonProgress.lesson_id)
    ).all()
    reflections = session.scalars(
        select(Reflection).where(Reflection.enrolment_id == enrolment.id).order_by(Reflection.id)
    ).all()
    return {
        "programme_id": enrolment.programme_id,
        "release_id": enrolment.release_id,
        "cohort_id": enrolment.cohort_id,
        "enrolled_at": enrolment.enrolled_at.isoformat(),
        "last_lesson": (
            {"module_id": enrolment.position_module_id, "lesson_id": enrolment.position_lesson_id}
            if enrolment.position_lesson_id
            else None
        ),
        "lessons": [
            {
                "module_id": p.module_id,
                "lesson_id": p.lesson_id,
                "seconds_spent": p.seconds_spent,
                "completed_at": p.completed_at.isoformat() if p.completed_at else None,
            }
            for p in progress
        ],
        "reflections": [
            {
                "module_id": r.module_id,
                "lesson_id": r.lesson_id,
                "prompt_id": r.prompt_id,
                "text": r.text,
                "shared_with_trainer": r.shared_with_trainer,
                "updated_at": r.updated_at.isoformat(),
            }
            for r in reflections
        ],
    }


def delete_account(session: Session, user: User) -> None:
    """Remove the person's data and reflections and end their sessions.

    The users row itself is dropped, unless something that must be kept refers to it (a
    retention check says so, or a foreign key forbids it, such as a rating they gave as a
    trainer): then it is kept with every personal field replaced. Issued certificates keep
    their own copy of the holder's name and lose only the link (ON DELETE SET NULL).
    """
    enrolment_ids = select(Enrolment.id).where(Enrolment.user_id == user.id)
    session.execute(delete(Reflection).where(Reflection.enrolment_id.in_(enrolment_ids)))
    session.execute(delete(LessonProgress).where(LessonProgress.enrolment_id.in_(enrolment_ids)))
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id))
    end_all_sessions(session, user.id)
    if not any(check(session, user.id) for check in RETENTION_CHECKS):
        try:
            with session.begin_nested():
                session.execute(delete(Enrolment).where(Enrolment.user_id == user.id))
                session.execute(delete(User).where(User.id == user.id))
            return
        except IntegrityError:
            pass  # a record that must be kept refers to this user
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = "Deleted account"
    user.password_hash = "!"  # noqa: S105  never a valid argon2 hash, so nobody can log in  # nosec B105
    user.deleted_at = utcnow()
    session.flush()
