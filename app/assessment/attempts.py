"""Attempts at question assessments: start, autosave, submit once, review.

The server owns the clock: `deadline` is fixed when the attempt starts (started_at + time
limit). Answers saved up to `deadline + GRACE` count; later writes are refused and a late
submit is scored with the answers saved in time. An attempt left open past that moment is
closed by the server ("time-up") the next time anyone touches it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assessment.errors import (
    AlreadySubmitted,
    AttemptLimitReached,
    CoolingDown,
    InvalidAnswers,
    TimeUp,
    UnknownAssessment,
)
from app.catalog import load_release
from app.compiler import Release
from app.scoring import (
    AnswerError,
    AttemptPlan,
    AttemptScore,
    ItemScore,
    draw_attempt,
    parse_answer,
    public_item,
    score_attempt,
)
from app.scoring.definitions import QuestionAssessment
from app.scoring.plan import planned_items
from app.store.assessment import Attempt, FreeTextResponse
from app.store.base import utcnow
from app.store.learning import Enrolment

GRACE = timedelta(minutes=2)
QUESTION_KINDS = ("knowledge-check", "situational-judgement", "free-text")

RawAnswers = Mapping[str, Mapping[str, Any] | None]


def question_assessment(release: Release, assessment_id: str) -> QuestionAssessment:
    """The question assessment of this release (not a role-play), or UnknownAssessment."""
    found = release.assessments.get(assessment_id)
    if not isinstance(found, QuestionAssessment):
        raise UnknownAssessment(f"This programme has no question assessment “{assessment_id}”.")
    return found


def attempt_assessment(session: Session, attempt: Attempt) -> QuestionAssessment:
    """The assessment as it was in the release the attempt was started on."""
    return question_assessment(load_release(session, attempt.release_id), attempt.assessment_id)


def attempt_plan(attempt: Attempt) -> AttemptPlan:
    return AttemptPlan.from_dict(attempt.plan)


def attempts_for(session: Session, enrolment: Enrolment, assessment_id: str) -> list[Attempt]:
    """This enrolment's attempts at one assessment, oldest first."""
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.enrolment_id == enrolment.id, Attempt.assessment_id == assessment_id)
            .order_by(Attempt.attempt_no)
        )
    )


def _clock(at: datetime) -> str:
    return f"{at:%H:%M} UTC" if at.date() == utcnow().date() else f"{at:%d %B %Y, %H:%M} UTC"


@dataclass(frozen=True)
class Availability:
    """Whether a new attempt can start now, and if not, why (in words)."""

    can_start: bool
    reason: str
    used: int
    allowed: int | None
    open_attempt: Attempt | None = None
    next_start_at: datetime | None = None


def availability(
    session: Session, enrolment: Enrolment, assessment: QuestionAssessment
) -> Availability:
    """Attempts used and left, cool-down, and any attempt still open (to continue)."""
    attempts = attempts_for(session, enrolment, assessment.id)
    now = utcnow()
    for attempt in attempts:
        close_if_expired(session, attempt, now)
    used = len(attempts)
    open_ = next((a for a in attempts if not a.submitted), None)
    if open_ is not None:
        return Availability(
            False, "You have an attempt in progress.", used, assessment.max_attempts, open_
        )
    if assessment.max_attempts is not None and used >= assessment.max_attempts:
        return Availability(
            False,
            f"You have used all {assessment.max_attempts} attempts at this assessment. "
            "Your best result counts; talk to your trainer if you need another try.",
            used,
            assessment.max_attempts,
        )
    if attempts and assessment.cooldown_minutes:
        last = max(a.submitted_at for a in attempts if a.submitted_at is not None)
        until = last + timedelta(minutes=assessment.cooldown_minutes)
        if now < until:
            return Availability(
                False,
                f"You can try again after {_clock(until)} "
                f"(a {assessment.cooldown_minutes}-minute pause between attempts).",
                used,
                assessment.max_attempts,
                next_start_at=until,
            )
    return Availability(True, "", used, assessment.max_attempts)


def start_attempt(
    session: Session, enrolment: Enrolment, release: Release, assessment_id: str
) -> Attempt:
    """Start a new attempt (or return the one already open), enforcing limits and cool-down."""
    assessment = question_assessment(release, assessment_id)
    # Serialise starts per enrolment, so two tabs cannot both take attempt n + 1.
    session.scalars(select(Enrolment).where(Enrolment.id == enrolment.id).with_for_update()).one()
    state = availability(session, enrolment, assessment)
    if state.open_attempt is not None:
        return state.open_attempt
    if not state.can_start:
        if state.next_start_at is not None:
            raise CoolingDown(state.reason, state.next_start_at)
        raise AttemptLimitReached(state.reason)
    number = (
        session.scalar(
            select(func.max(Attempt.attempt_no)).where(
                Attempt.enrolment_id == enrolment.id, Attempt.assessment_id == assessment.id
            )
        )
        or 0
    ) + 1
    seed = secrets.randbelow(2**31)
    now = utcnow()
    attempt = Attempt(
        enrolment_id=enrolment.id,
        release_id=enrolment.release_id,
        assessment_id=assessment.id,
        kind=assessment.kind,
        attempt_no=number,
        seed=seed,
        plan=draw_attempt(assessment, seed).to_dict(),
        started_at=now,
        deadline=(
            now + timedelta(minutes=assessment.time_limit_minutes)
            if assessment.time_limit_minutes
            else None
        ),
        answers={},
        competency_scores={},
    )
    session.add(attempt)
    session.flush()
    return attempt


def public_items(session: Session, attempt: Attempt) -> list[dict[str, Any]]:
    """The attempt's items as a browser may see them, in the planned order (no keys)."""
    assessment = attempt_assessment(session, attempt)
    return [
        public_item(item, entry) for item, entry in planned_items(assessment, attempt_plan(attempt))
    ]


def time_left(attempt: Attempt) -> timedelta | None:
    """Time until the deadline (never negative); None if the attempt is not timed."""
    if attempt.deadline is None:
        return None
    return max(attempt.deadline - utcnow(), timedelta(0))


def _in_time(attempt: Attempt, now: datetime) -> bool:
    return attempt.deadline is None or now <= attempt.deadline + GRACE


def _locked(session: Session, attempt: Attempt) -> Attempt:
    return session.scalars(
        select(Attempt)
        .where(Attempt.id == attempt.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _validated(assessment: QuestionAssessment, attempt: Attempt, raw: RawAnswers) -> dict[str, Any]:
    items = {item.id: item for item, _ in planned_items(assessment, attempt_plan(attempt))}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for item_id, value in raw.items():
        item = items.get(item_id)
        if item is None:
            errors[item_id] = "this question is not part of your attempt"
            continue
        try:
            parse_answer(item, value)
        except AnswerError as error:
            errors[item_id] = error.reason
            continue
        clean[item_id] = dict(value) if value is not None else None
    if errors:
        raise InvalidAnswers(errors)
    return clean


def close_if_expired(session: Session, attempt: Attempt, now: datetime | None = None) -> bool:
    """Close an open attempt whose time (and grace) has run out, scoring the saved answers."""
    now = now or utcnow()
    if attempt.submitted or _in_time(attempt, now):
        return False
    _finalise(session, attempt, "time-up", now)
    return True


def save_answers(session: Session, attempt: Attempt, raw: RawAnswers) -> Attempt:
    """Merge answers into the attempt (item by item; a null clears one). Repeating is harmless.

    Raises AlreadySubmitted, TimeUp (the attempt is then closed with what was saved in time)
    or InvalidAnswers (nothing is saved).
    """
    attempt = _locked(session, attempt)
    now = utcnow()
    if attempt.submitted:
        raise AlreadySubmitted("This attempt has been submitted already; its answers are final.")
    if close_if_expired(session, attempt, now):
        raise TimeUp(
            "Time is up for this attempt, so these answers could not be saved. It has been "
            "submitted with the answers you saved before the deadline."
        )
    clean = _validated(attempt_assessment(session, attempt), attempt, raw)
    attempt.answers = {**attempt.answers, **clean}
    attempt.answers_saved_at = now
    session.flush()
    return attempt


@dataclass(frozen=True)
class Submission:
    attempt: Attempt
    late: bool  # answers sent with the submit came after the deadline and were not counted


def submit_attempt(session: Session, attempt: Attempt, raw: RawAnswers | None = None) -> Submission:
    """Finalise the attempt once: merge `raw` if still in time, score, store the result.

    A second submit raises AlreadySubmitted. After the deadline (plus grace) the answers sent
    now are ignored and the attempt is scored with those saved in time.
    """
    attempt = _locked(session, attempt)
    now = utcnow()
    if attempt.submitted:
        raise AlreadySubmitted("This attempt was submitted already; here is its result.")
    late = not _in_time(attempt, now)
    if raw and not late:
        clean = _validated(attempt_assessment(session, attempt), attempt, raw)
        attempt.answers = {**attempt.answers, **clean}
        attempt.answers_saved_at = now
    _finalise(session, attempt, "late" if late else "trainee", now)
    return Submission(attempt, late and bool(raw))


def _finalise(session: Session, attempt: Attempt, how: str, now: datetime) -> None:
    assessment = attempt_assessment(session, attempt)
    score = score_attempt(assessment, attempt_plan(attempt), attempt.answers)
    attempt.submitted_at = now
    attempt.submitted_how = how
    attempt.points = score.points
    attempt.max_points = score.max_points
    attempt.fraction = score.fraction
    attempt.passed = score.passed
    attempt.competency_scores = dict(score.competencies)
    for item in score.items:
        if item.listening is None:
            continue
        answer = attempt.answers.get(item.item_id) or {}
        session.add(
            FreeTextResponse(
                attempt_id=attempt.id,
                item_id=item.item_id,
                text=str(answer.get("text", "")).strip(),
                feedback=feedback_record(item),
            )
        )
    session.flush()


def feedback_record(item: ItemScore) -> dict[str, Any]:
    """The listening feedback stored for a free-text reply (shown to the trainee and trainer)."""
    listening = item.listening
    assert listening is not None
    return {
        "message": item.explanation,
        "skills": list(listening.skills_found),
        "roadblocks": list(listening.roadblocks_found),
        "detections": [
            {"category": category, "phrase": phrase, "rule": rule}
            for category, phrase, rule in listening.detections
        ],
    }


@dataclass(frozen=True)
class ReviewItem:
    """One item of a submitted attempt: what was asked, answered, and why it scored so."""

    public: dict[str, Any]
    answer: Mapping[str, Any] | None
    score: ItemScore
    option_texts: Mapping[str, str] = field(default_factory=dict)
    free_text: FreeTextResponse | None = None


@dataclass(frozen=True)
class Review:
    attempt: Attempt
    assessment: QuestionAssessment
    score: AttemptScore
    items: list[ReviewItem]


def attempt_review(session: Session, attempt: Attempt) -> Review:
    """The explained result of a submitted attempt (recomputed from the stored plan and answers)."""
    if not attempt.submitted:
        raise UnknownAssessment("This attempt has not been submitted yet, so there is no review.")
    assessment = attempt_assessment(session, attempt)
    plan = attempt_plan(attempt)
    score = score_attempt(assessment, plan, attempt.answers)
    free = {
        r.item_id: r
        for r in session.scalars(
            select(FreeTextResponse).where(FreeTextResponse.attempt_id == attempt.id)
        )
    }
    items = []
    for (item, entry), item_score in zip(planned_items(assessment, plan), score.items, strict=True):
        texts = {o.id: o.text for o in getattr(item, "options", [])}
        items.append(
            ReviewItem(
                public=public_item(item, entry),
                answer=attempt.answers.get(item.id),
                score=item_score,
                option_texts=texts,
                free_text=free.get(item.id),
            )
        )
    return Review(attempt, assessment, score, items)
