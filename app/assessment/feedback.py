"""Trainer moderation of the automatic listening feedback on free-text answers."""

from __future__ import annotations

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from app.assessment.access import assessable_enrolments, check_may_assess
from app.assessment.errors import InvalidAnswers
from app.audit import record
from app.store.accounts import User
from app.store.assessment import Attempt, FreeTextResponse
from app.store.base import utcnow
from app.store.learning import Enrolment

MAX_NOTE_CHARS = 5000


def responses_to_moderate(
    session: Session, trainer: User | None = None, *, limit: int = 200
) -> list[FreeTextResponse]:
    """Free-text answers of trainees `trainer` may assess whose automatic feedback no trainer
    has looked at yet, oldest first."""
    return list(
        session.scalars(
            select(FreeTextResponse)
            .join(Attempt, Attempt.id == FreeTextResponse.attempt_id)
            .join(Enrolment, Enrolment.id == Attempt.enrolment_id)
            .where(
                FreeTextResponse.review_status == "automatic",
                assessable_enrolments(trainer) if trainer else true(),
            )
            .order_by(FreeTextResponse.id)
            .limit(limit)
        )
    )


def _enrolment(session: Session, answer: FreeTextResponse) -> Enrolment:
    attempt = session.get(Attempt, answer.attempt_id)
    assert attempt is not None
    enrolment = session.get(Enrolment, attempt.enrolment_id)
    assert enrolment is not None
    return enrolment


def _review(
    session: Session, answer: FreeTextResponse, trainer: User, note: str, status: str
) -> FreeTextResponse:
    check_may_assess(session, trainer, _enrolment(session, answer))
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidAnswers(
            {"note": f"the note is {len(note)} characters; at most {MAX_NOTE_CHARS}"}
        )
    if status == "overridden" and not note:
        raise InvalidAnswers(
            {"note": "say what the trainee should read instead of the automatic feedback"}
        )
    answer.review_status = status
    answer.trainer_note = note
    answer.reviewed_by = trainer.id
    answer.reviewed_at = utcnow()
    session.flush()
    record(
        session,
        trainer,
        f"feedback.{status}",
        "free_text_response",
        answer.id,
        {"attempt_id": answer.attempt_id, "item_id": answer.item_id, "note": note},
    )
    return answer


def confirm_feedback(
    session: Session, answer: FreeTextResponse, trainer: User, note: str = ""
) -> FreeTextResponse:
    """A trainer agrees with the automatic feedback (optionally adding a note for the trainee)."""
    return _review(session, answer, trainer, note, "confirmed")


def override_feedback(
    session: Session, answer: FreeTextResponse, trainer: User, note: str
) -> FreeTextResponse:
    """A trainer replaces the automatic feedback with their own note (required)."""
    return _review(session, answer, trainer, note, "overridden")
