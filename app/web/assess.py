"""Attempts for trainees: the assessment page, the attempt form (autosave and submit, no
JavaScript), the review; and the same under /api/v1. Answer keys never leave the server
before an attempt is submitted: pages and API show only `public_items`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app import assessment as assess
from app import learning
from app.catalog import load_release
from app.compiler import Release
from app.scoring.definitions import QuestionAssessment
from app.store.accounts import User
from app.store.assessment import Attempt
from app.store.learning import Enrolment
from app.web.api.idempotent import IdempotencyKey, run_once
from app.web.api.responses import problems
from app.web.auth import CurrentUser, verify_csrf
from app.web.deps import DB, FormFields, records_reading
from app.web.errors import Problem
from app.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api/v1", tags=["assessments"])


# --- finding things, scoped to the caller ------------------------------------------------


def _enrolment(db: Session, user: User, programme: str) -> tuple[Enrolment, Release]:
    enrolment = learning.enrolment_for(db, user.id, programme)
    if enrolment is None:
        raise Problem(
            403,
            f"You are not enrolled in “{programme}”. Enrol in the programme first.",
            slug="not-enrolled",
        )
    return enrolment, load_release(db, enrolment.release_id)


def _question(release: Release, assessment_id: str) -> QuestionAssessment:
    try:
        return assess.question_assessment(release, assessment_id)
    except assess.UnknownAssessment as error:
        raise Problem(404, str(error)) from None


def _check_unlocked(
    db: Session, enrolment: Enrolment, release: Release, assessment: QuestionAssessment
) -> None:
    """An assessment in a module whose prerequisites are unfinished cannot be started (the
    same rule as its lessons), whichever route is used."""
    homes = [
        m.id
        for m in release.modules
        if any(assessment.id in lesson.assessment_ids for lesson in m.lessons)
    ]
    if not homes and assessment.module in {m.id for m in release.modules}:
        homes = [assessment.module]
    progress = learning.load_progress(db, enrolment, release)
    for module_id in homes:
        waiting = progress.module_progress(module_id).waiting_for
        if waiting:
            names = ", ".join(m.title for m in waiting)
            raise Problem(
                403,
                f"This assessment opens when you have finished: {names}.",
                slug="module-locked",
                extra={"waiting_for": [m.id for m in waiting]},
            )


def _own_attempt(db: Session, user: User, attempt_id: int) -> Attempt:
    """The caller's own attempt; anyone else's is "not found", exactly like a missing one."""
    attempt = db.scalars(
        select(Attempt)
        .join(Enrolment, Enrolment.id == Attempt.enrolment_id)
        .where(Attempt.id == attempt_id, Enrolment.user_id == user.id)
    ).one_or_none()
    if attempt is None:
        raise Problem(404, "There is no attempt at this address.", slug="attempt-not-found")
    return attempt


def _problem(error: assess.AssessmentError, **extra: Any) -> Problem:
    slug = {
        assess.AttemptLimitReached: "attempt-limit-reached",
        assess.CoolingDown: "cooling-down",
        assess.AlreadySubmitted: "already-submitted",
        assess.TimeUp: "time-up",
        assess.InvalidAnswers: "invalid-answers",
    }.get(type(error), "assessment-error")
    if isinstance(error, assess.InvalidAnswers):
        extra["errors"] = error.errors
    if isinstance(error, assess.CoolingDown):
        extra["retry_at"] = error.until.isoformat()
    return Problem(error.status, str(error), slug=slug, extra=extra)


# --- form fields <-> answers -------------------------------------------------------------


def answers_from_form(items: list[dict[str, Any]], form: FormData) -> dict[str, Any]:
    """The raw answer of every item on the attempt page (an empty field clears an answer)."""
    raw: dict[str, Any] = {}
    for item in items:
        name, kind = item["id"], item["type"]
        if kind == "single-choice":
            raw[name] = {"option": form.get(f"{name}.option") or None}
        elif kind == "multiple-response":
            raw[name] = {"options": [str(v) for v in form.getlist(f"{name}.options")]}
        elif kind == "true-false":
            raw[name] = {"value": form.get(f"{name}.value") or None}
        elif kind == "situational-judgement":
            answer: dict[str, Any] = {}
            if item["mode"] in ("pick-best", "both"):
                answer["best"] = form.get(f"{name}.best") or None
            if item["mode"] in ("rate-each", "both"):
                answer["ratings"] = {
                    o["id"]: form.get(f"{name}.rating.{o['id']}") or None for o in item["options"]
                }
            raw[name] = answer
        else:
            raw[name] = {"text": str(form.get(f"{name}.text") or "")}
    return raw


def _when(at: datetime | None) -> str:
    return f"{at:%d %B %Y, %H:%M} UTC" if at else ""


# --- pages ---------------------------------------------------------------------------------


def _overview(
    request: Request,
    db: Session,
    enrolment: Enrolment,
    release: Release,
    assessment: QuestionAssessment,
    *,
    message: str = "",
    status_code: int = 200,
) -> Response:
    state = assess.availability(db, enrolment, assessment)
    return render(
        request,
        "assess_overview.html",
        {
            "release": release,
            "assessment": assessment,
            "state": state,
            "attempts": assess.attempts_for(db, enrolment, assessment.id),
            "message": message,
            "when": _when,
        },
        status_code=status_code,
    )


@router.get("/assess/{programme}/{assessment_id}")
@records_reading
def overview(
    request: Request, programme: str, assessment_id: str, db: DB, user: CurrentUser
) -> Response:
    enrolment, release = _enrolment(db, user, programme)
    assessment = _question(release, assessment_id)
    _check_unlocked(db, enrolment, release, assessment)
    return _overview(request, db, enrolment, release, assessment)


@router.post("/assess/{programme}/{assessment_id}/attempts", dependencies=[verify_csrf])
def start(
    request: Request, programme: str, assessment_id: str, db: DB, user: CurrentUser
) -> Response:
    enrolment, release = _enrolment(db, user, programme)
    assessment = _question(release, assessment_id)
    _check_unlocked(db, enrolment, release, assessment)
    try:
        attempt = assess.start_attempt(db, enrolment, release, assessment_id)
    except (assess.AttemptLimitReached, assess.CoolingDown) as error:
        return _overview(
            request, db, enrolment, release, assessment, message=str(error), status_code=409
        )
    return RedirectResponse(f"/attempts/{attempt.id}", status_code=303)


def _attempt_page(
    request: Request,
    db: Session,
    attempt: Attempt,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    assessment = assess.attempt_assessment(db, attempt)
    release = load_release(db, attempt.release_id)
    left = assess.time_left(attempt)
    return render(
        request,
        "assess_attempt.html",
        {
            "release": release,
            "assessment": assessment,
            "attempt": attempt,
            "items": assess.public_items(db, attempt),
            "answers": {**attempt.answers, **(values or {})},
            "errors": errors or {},
            "message": message,
            "minutes_left": None if left is None else int(left.total_seconds() // 60),
            "when": _when,
        },
        status_code=status_code,
    )


@router.get("/attempts/{attempt_id}")
@records_reading
def attempt_page(request: Request, attempt_id: int, db: DB, user: CurrentUser) -> Response:
    attempt = _own_attempt(db, user, attempt_id)
    assess.close_if_expired(db, attempt)
    if attempt.submitted:
        return RedirectResponse(f"/attempts/{attempt.id}/review", status_code=303)
    saved = "Your answers are saved." if request.query_params.get("saved") else ""
    return _attempt_page(request, db, attempt, message=saved)


@router.post("/attempts/{attempt_id}", dependencies=[verify_csrf])
def attempt_post(
    request: Request, attempt_id: int, db: DB, user: CurrentUser, form: FormFields
) -> Response:
    attempt = _own_attempt(db, user, attempt_id)
    action = form.get("action", "save")
    if assess.close_if_expired(db, attempt) or attempt.submitted_how == "time-up":
        return RedirectResponse(f"/attempts/{attempt.id}/review?late=1", status_code=303)
    if attempt.submitted:
        return RedirectResponse(f"/attempts/{attempt.id}/review?already=1", status_code=303)
    raw = answers_from_form(assess.public_items(db, attempt), form)
    try:
        if action == "submit":
            submission = assess.submit_attempt(db, attempt, raw)
            late = "?late=1" if submission.late else ""
            return RedirectResponse(f"/attempts/{attempt.id}/review{late}", status_code=303)
        assess.save_answers(db, attempt, raw)
    except assess.AlreadySubmitted:
        return RedirectResponse(f"/attempts/{attempt.id}/review?already=1", status_code=303)
    except assess.TimeUp:
        return RedirectResponse(f"/attempts/{attempt.id}/review?late=1", status_code=303)
    except assess.InvalidAnswers as error:
        # Shown again with what they chose, so nothing is lost.
        return _attempt_page(request, db, attempt, errors=error.errors, values=raw, status_code=422)
    return RedirectResponse(f"/attempts/{attempt.id}?saved=1", status_code=303)


@router.get("/attempts/{attempt_id}/review")
@records_reading
def review_page(request: Request, attempt_id: int, db: DB, user: CurrentUser) -> Response:
    attempt = _own_attempt(db, user, attempt_id)
    assess.close_if_expired(db, attempt)
    if not attempt.submitted:
        return RedirectResponse(f"/attempts/{attempt.id}", status_code=303)
    review = assess.attempt_review(db, attempt)
    flashes = []
    if request.query_params.get("already"):
        flashes.append("This attempt was submitted already; here is its result.")
    if request.query_params.get("late") or attempt.submitted_how == "time-up":
        flashes.append(
            "Time ran out on this attempt. Answers saved before the deadline count; "
            "answers sent after it do not."
        )
    return render(
        request,
        "assess_review.html",
        {
            "release": load_release(db, attempt.release_id),
            "review": review,
            "attempt": attempt,
            "flashes": flashes,
            "when": _when,
        },
    )


# --- JSON API ------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswersIn(_In):
    answers: Annotated[
        dict[Annotated[str, Field(max_length=64)], dict[str, Any] | None],
        Field(max_length=200, description="Item id → answer (null clears it)."),
    ] = Field(default_factory=dict)


class AttemptOut(BaseModel):
    id: int
    assessment_id: str
    title: str
    kind: str
    attempt_no: int
    started_at: datetime
    deadline: datetime | None
    seconds_left: int | None
    submitted_at: datetime | None
    items: list[dict[str, Any]] = Field(description="The items as shown: never keys or feedback.")
    answers: dict[str, Any]
    review_url: str | None


class AttemptSummaryOut(BaseModel):
    id: int
    attempt_no: int
    started_at: datetime
    submitted_at: datetime | None
    points: float | None
    max_points: float | None
    fraction: float | None
    passed: bool | None


class AssessmentStatusOut(BaseModel):
    id: str
    title: str
    kind: str
    instructions: str
    time_limit_minutes: int | None
    max_attempts: int | None
    attempts_used: int
    can_start: bool
    reason: str
    open_attempt_id: int | None
    next_start_at: datetime | None
    attempts: list[AttemptSummaryOut]


class ReviewItemOut(BaseModel):
    item: dict[str, Any]
    your_answer: dict[str, Any] | None
    points: float
    max_points: float
    explanation: str
    correct_options: list[str]
    expert_ratings: dict[str, int]
    rationales: dict[str, str]
    feedback: str | None
    model_answer: str | None
    formative: bool
    listening: dict[str, Any] | None
    trainer_review: dict[str, Any] | None


class ReviewOut(BaseModel):
    attempt_id: int
    assessment_id: str
    points: float
    max_points: float
    fraction: float
    pass_mark: float
    passed: bool
    formative: bool
    submitted_how: str | None
    summary: str
    items: list[ReviewItemOut]


def _attempt_out(db: Session, attempt: Attempt) -> AttemptOut:
    left = assess.time_left(attempt)
    assessment = assess.attempt_assessment(db, attempt)
    return AttemptOut(
        id=attempt.id,
        assessment_id=attempt.assessment_id,
        title=assessment.title,
        kind=attempt.kind,
        attempt_no=attempt.attempt_no,
        started_at=attempt.started_at,
        deadline=attempt.deadline,
        seconds_left=None if left is None else int(left.total_seconds()),
        submitted_at=attempt.submitted_at,
        items=assess.public_items(db, attempt),
        answers=dict(attempt.answers),
        review_url=f"/api/v1/attempts/{attempt.id}/review" if attempt.submitted else None,
    )


def _review_out(db: Session, attempt: Attempt) -> ReviewOut:
    review = assess.attempt_review(db, attempt)
    score = review.score
    items = []
    for item in review.items:
        s = item.score
        listening = None
        if item.free_text is not None:
            listening = {
                "skills": item.free_text.feedback.get("skills", []),
                "roadblocks": item.free_text.feedback.get("roadblocks", []),
                "detections": item.free_text.feedback.get("detections", []),
            }
        trainer = None
        if item.free_text is not None and item.free_text.review_status != "automatic":
            trainer = {"status": item.free_text.review_status, "note": item.free_text.trainer_note}
        items.append(
            ReviewItemOut(
                item=item.public,
                your_answer=dict(item.answer) if item.answer else None,
                points=s.points,
                max_points=s.max_points,
                explanation=s.explanation,
                correct_options=list(s.correct_options),
                expert_ratings=dict(s.expert_ratings),
                rationales=dict(s.rationales),
                feedback=s.feedback,
                model_answer=s.model_answer,
                formative=s.max_points == 0,
                listening=listening,
                trainer_review=trainer,
            )
        )
    return ReviewOut(
        attempt_id=attempt.id,
        assessment_id=attempt.assessment_id,
        points=score.points,
        max_points=score.max_points,
        fraction=score.fraction,
        pass_mark=score.pass_mark,
        passed=score.passed,
        formative=score.formative,
        submitted_how=attempt.submitted_how,
        summary=score.explanations[0],
        items=items,
    )


@api.get(
    "/programmes/{programme}/assessments/{assessment_id}",
    response_model=AssessmentStatusOut,
    responses=problems(401, 403, 404, 422),
)
@records_reading
def api_status(
    programme: str, assessment_id: str, db: DB, user: CurrentUser
) -> AssessmentStatusOut:
    """An assessment's instructions, your attempts, and whether you can start one now."""
    enrolment, release = _enrolment(db, user, programme)
    assessment = _question(release, assessment_id)
    _check_unlocked(db, enrolment, release, assessment)
    state = assess.availability(db, enrolment, assessment)
    return AssessmentStatusOut(
        id=assessment.id,
        title=assessment.title,
        kind=assessment.kind,
        instructions=assessment.instructions,
        time_limit_minutes=assessment.time_limit_minutes,
        max_attempts=assessment.max_attempts,
        attempts_used=state.used,
        can_start=state.can_start,
        reason=state.reason,
        open_attempt_id=state.open_attempt.id if state.open_attempt else None,
        next_start_at=state.next_start_at,
        attempts=[
            AttemptSummaryOut(
                id=a.id,
                attempt_no=a.attempt_no,
                started_at=a.started_at,
                submitted_at=a.submitted_at,
                points=a.points,
                max_points=a.max_points,
                fraction=a.fraction,
                passed=a.passed,
            )
            for a in assess.attempts_for(db, enrolment, assessment.id)
        ],
    )


@api.post(
    "/programmes/{programme}/assessments/{assessment_id}/attempts",
    status_code=201,
    response_model=AttemptOut,
    dependencies=[verify_csrf],
    responses=problems(401, 403, 404, 409, 422),
)
def api_start(programme: str, assessment_id: str, db: DB, user: CurrentUser) -> AttemptOut:
    """Start an attempt (or get the one in progress). 409 with a reason at the limit or in the
    cool-down."""
    enrolment, release = _enrolment(db, user, programme)
    _check_unlocked(db, enrolment, release, _question(release, assessment_id))
    try:
        attempt = assess.start_attempt(db, enrolment, release, assessment_id)
    except assess.AssessmentError as error:
        raise _problem(error) from None
    return _attempt_out(db, attempt)


@api.get("/attempts/{attempt_id}", response_model=AttemptOut, responses=problems(401, 404, 422))
@records_reading
def api_attempt(attempt_id: int, db: DB, user: CurrentUser) -> AttemptOut:
    """One of your attempts: its items as shown (no keys), your saved answers, the deadline."""
    attempt = _own_attempt(db, user, attempt_id)
    assess.close_if_expired(db, attempt)
    return _attempt_out(db, attempt)


@api.put(
    "/attempts/{attempt_id}/answers",
    response_model=AttemptOut,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def api_save(
    request: Request,
    attempt_id: int,
    body: AnswersIn,
    db: DB,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> Response:
    """Autosave: merge these answers (by item; null clears). Send an Idempotency-Key on retries."""
    attempt = _own_attempt(db, user, attempt_id)

    def write() -> tuple[int, AttemptOut]:
        try:
            saved = assess.save_answers(db, attempt, body.answers)
        except assess.AssessmentError as error:
            raise _problem(error) from None
        return 200, _attempt_out(db, saved)

    return run_once(request, db, user, key, body, write)


@api.post(
    "/attempts/{attempt_id}/submit",
    response_model=ReviewOut,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def api_submit(
    request: Request,
    attempt_id: int,
    db: DB,
    user: CurrentUser,
    key: IdempotencyKey = None,
    body: AnswersIn | None = None,
) -> Response:
    """Submit once (optionally with last answers) and get the explained result. A second submit
    is 409; after the deadline the answers sent now do not count."""
    attempt = _own_attempt(db, user, attempt_id)

    def write() -> tuple[int, ReviewOut]:
        try:
            assess.submit_attempt(db, attempt, body.answers if body else None)
        except assess.AlreadySubmitted as error:
            raise _problem(error, review_url=f"/api/v1/attempts/{attempt.id}/review") from None
        except assess.AssessmentError as error:
            raise _problem(error) from None
        return 200, _review_out(db, attempt)

    return run_once(request, db, user, key, body, write)


@api.get(
    "/attempts/{attempt_id}/review",
    response_model=ReviewOut,
    responses=problems(401, 404, 409, 422),
)
@records_reading
def api_review(attempt_id: int, db: DB, user: CurrentUser) -> ReviewOut:
    """The explained result of a submitted attempt: keys, rationales and feedback, per item."""
    attempt = _own_attempt(db, user, attempt_id)
    assess.close_if_expired(db, attempt)
    if not attempt.submitted:
        raise Problem(
            409,
            "This attempt has not been submitted yet; the review is available after you submit.",
            slug="not-submitted",
        )
    return _review_out(db, attempt)
