"""Trainer pages for observed role-plays: open a session, rate it on the rubric (blind to other
raters until one's own rating is in), see agreement, follow up harmful ratings; and moderate
the automatic feedback on a free-text answer. Trainers and administrators only; trainers
only for trainees in their cohorts or in no cohort (see app.assessment.access)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app import assessment as assess
from app import learning
from app.catalog import load_release, programme_records, release_of
from app.scoring.definitions import FreeTextItem, RolePlayAssessment
from app.store.accounts import User
from app.store.assessment import Attempt, FreeTextResponse, HarmfulFollowUp, RolePlaySession
from app.store.learning import Enrolment
from app.web.auth import require_role, verify_csrf
from app.web.deps import DB, FormFields
from app.web.errors import Problem
from app.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Trainer = Annotated[User, require_role("trainer", "admin")]

NOT_YOURS = (
    "This trainee is not in a group you run, so you cannot assess their work. "
    "Ask their trainer or an administrator."
)


def _scoped_enrolment(db: Session, trainer: User, enrolment_id: int) -> Enrolment:
    enrolment = db.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise Problem(404, "There is no such enrolment.")
    if not assess.may_assess(db, trainer, enrolment):
        raise Problem(403, NOT_YOURS, slug="not-your-trainee")
    return enrolment


def _scoped_session(
    db: Session, trainer: User, session_id: int
) -> tuple[RolePlaySession, Enrolment]:
    rp = db.get(RolePlaySession, session_id)
    if rp is None:
        raise Problem(404, "There is no such role-play session.")
    return rp, _scoped_enrolment(db, trainer, rp.enrolment_id)


def _role_plays(db: Session, enrolment: Enrolment) -> list[RolePlayAssessment]:
    release = load_release(db, enrolment.release_id)
    return [a for a in release.assessments.values() if isinstance(a, RolePlayAssessment)]


# --- opening a session ---------------------------------------------------------------------


@router.get("/train/roleplays")
def find_trainee(request: Request, db: DB, trainer: Trainer) -> Response:
    programmes = [release_of(r).programme for r in programme_records(db)]
    return render(
        request, "rating_find.html", {"programmes": programmes, "errors": {}, "values": {}}
    )


@router.post("/train/roleplays", dependencies=[verify_csrf])
def find_trainee_post(
    request: Request,
    db: DB,
    trainer: Trainer,
    email: Annotated[str, Form(max_length=320)],
    programme_id: Annotated[str, Form(max_length=64)],
) -> Response:
    user = db.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
    enrolment = learning.enrolment_for(db, user.id, programme_id) if user else None
    if enrolment is None:
        programmes = [release_of(r).programme for r in programme_records(db)]
        return render(
            request,
            "rating_find.html",
            {
                "programmes": programmes,
                "errors": {"email": "No trainee with that email is enrolled in this programme."},
                "values": {"email": email, "programme_id": programme_id},
            },
            status_code=404,
        )
    return RedirectResponse(f"/train/enrolments/{enrolment.id}/roleplays", status_code=303)


@router.get("/train/enrolments/{enrolment_id}/roleplays")
def trainee_roleplays(request: Request, enrolment_id: int, db: DB, trainer: Trainer) -> Response:
    enrolment = _scoped_enrolment(db, trainer, enrolment_id)
    trainee = db.get(User, enrolment.user_id)
    assessments = {a.id: a for a in _role_plays(db, enrolment)}
    sessions = assess.sessions_for(db, enrolment)
    return render(
        request,
        "rating_trainee.html",
        {
            "enrolment": enrolment,
            "trainee": trainee,
            "assessments": assessments,
            "sessions": [(s, len(assess.session_ratings(db, s))) for s in sessions],
        },
    )


@router.post("/train/enrolments/{enrolment_id}/roleplays", dependencies=[verify_csrf])
def open_session(
    enrolment_id: int,
    db: DB,
    trainer: Trainer,
    assessment_id: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    enrolment = _scoped_enrolment(db, trainer, enrolment_id)
    try:
        rp = assess.open_session(db, enrolment, assessment_id, trainer, note)
    except assess.AssessmentError as error:
        raise Problem(error.status, str(error)) from None
    return RedirectResponse(f"/train/roleplays/{rp.id}", status_code=303)


# --- rating ----------------------------------------------------------------------------------


def _session_page(
    request: Request,
    db: Session,
    trainer: User,
    rp: RolePlaySession,
    enrolment: Enrolment,
    *,
    editing: bool = False,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    assessment = assess.session_assessment(db, rp)
    mine = assess.rating_by(db, rp, trainer)
    visible = assess.visible_ratings(db, rp, trainer)
    all_count = len(assess.session_ratings(db, rp))
    names = {r.rater_id: (db.get(User, r.rater_id) or trainer).display_name for r in visible}
    if values is None and mine is not None:
        values = {
            item: {"level": str(v["level"]), "comment": v["comment"]}
            for item, v in mine.items.items()
        }
    return render(
        request,
        "rating_session.html",
        {
            "rp": rp,
            "trainee": db.get(User, enrolment.user_id),
            "enrolment": enrolment,
            "assessment": assessment,
            "mine": mine,
            "show_form": mine is None or editing,
            "visible": visible,
            "names": names,
            "hidden_count": all_count - len(visible),
            "agreement": assess.session_agreement(db, rp) if mine is not None else None,
            "followups": assess.followups_for(db, rp) if mine is not None else [],
            "rubric_titles": {r.id: r.title for r in assessment.rubric},
            "errors": errors or {},
            "values": values or {},
            "saved": request.query_params.get("saved", ""),
        },
        status_code=status_code,
    )


@router.get("/train/roleplays/{session_id}")
def session_page(request: Request, session_id: int, db: DB, trainer: Trainer) -> Response:
    rp, enrolment = _scoped_session(db, trainer, session_id)
    editing = bool(request.query_params.get("edit"))
    return _session_page(request, db, trainer, rp, enrolment, editing=editing)


@router.post("/train/roleplays/{session_id}/rating", dependencies=[verify_csrf])
def rate(request: Request, session_id: int, db: DB, trainer: Trainer, form: FormFields) -> Response:
    rp, enrolment = _scoped_session(db, trainer, session_id)
    assessment = assess.session_assessment(db, rp)
    items: dict[str, tuple[int | str | None, str]] = {}
    values: dict[str, dict[str, str]] = {}
    for rubric in assessment.rubric:
        level = str(form.get(f"level.{rubric.id}") or "")
        comment = str(form.get(f"comment.{rubric.id}") or "")
        items[rubric.id] = (level or None, comment)
        values[rubric.id] = {"level": level, "comment": comment}
    version_raw = str(form.get("version") or "")
    version = int(version_raw) if version_raw.isdigit() else None
    try:
        assess.submit_rating(db, rp, trainer, items, expected_version=version)
    except assess.StaleEdit as error:
        raise Problem(
            409, str(error), slug="rating-changed", title="This rating has changed"
        ) from None
    except assess.InvalidRating as error:
        return _session_page(
            request,
            db,
            trainer,
            rp,
            enrolment,
            editing=True,
            errors=error.errors,
            values=values,
            status_code=422,
        )
    return RedirectResponse(f"/train/roleplays/{rp.id}?saved=1", status_code=303)


@router.post("/train/followups/{followup_id}/resolve", dependencies=[verify_csrf])
def resolve(
    followup_id: int,
    db: DB,
    trainer: Trainer,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    followup = db.get(HarmfulFollowUp, followup_id)
    if followup is None:
        raise Problem(404, "There is no such follow-up.")
    rp, _ = _scoped_session(db, trainer, followup.session_id)
    try:
        assess.resolve_followup(db, followup, trainer, note)
    except assess.AssessmentError as error:
        raise Problem(error.status, str(error)) from None
    return RedirectResponse(f"/train/roleplays/{rp.id}?saved=1#followups", status_code=303)


# --- free-text feedback moderation ---------------------------------------------------------


def _scoped_response(
    db: Session, trainer: User, response_id: int
) -> tuple[FreeTextResponse, Attempt, Enrolment]:
    response = db.get(FreeTextResponse, response_id)
    if response is None:
        raise Problem(404, "There is no such answer.")
    attempt = db.get(Attempt, response.attempt_id)
    assert attempt is not None
    return response, attempt, _scoped_enrolment(db, trainer, attempt.enrolment_id)


@router.get("/train/free-text/{response_id}")
def free_text_page(request: Request, response_id: int, db: DB, trainer: Trainer) -> Response:
    response, attempt, enrolment = _scoped_response(db, trainer, response_id)
    assessment = assess.attempt_assessment(db, attempt)
    item = next(i for i in assessment.items if i.id == response.item_id)
    assert isinstance(item, FreeTextItem)
    return render(
        request,
        "rating_free_text.html",
        {
            "response": response,
            "item": item,
            "assessment": assessment,
            "trainee": db.get(User, enrolment.user_id),
            "saved": request.query_params.get("saved", ""),
        },
    )


@router.post("/train/free-text/{response_id}/{verdict}", dependencies=[verify_csrf])
def moderate(
    response_id: int,
    verdict: str,
    db: DB,
    trainer: Trainer,
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    response, _, _ = _scoped_response(db, trainer, response_id)
    try:
        if verdict == "confirm":
            assess.confirm_feedback(db, response, trainer, note)
        elif verdict == "override":
            assess.override_feedback(db, response, trainer, note)
        else:
            raise Problem(404, "Choose confirm or override.")
    except assess.AssessmentError as error:
        raise Problem(error.status, str(error)) from None
    return RedirectResponse(f"/train/free-text/{response.id}?saved=1", status_code=303)
