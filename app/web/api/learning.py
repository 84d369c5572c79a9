"""API: programmes, enrolment, outline with progress, lessons, completion, reflections, merging."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import learning
from app.catalog import load_release, programme_records, release_of
from app.compiler import Release
from app.learning import EnrolmentError, ReportedProgress
from app.store.accounts import User
from app.store.learning import Enrolment
from app.store.prepared import Connectable
from app.web.api.idempotent import IdempotencyKey, run_once
from app.web.api.responses import problems
from app.web.api.schemas import (
    CompetencyOut,
    EnrolmentOut,
    EnrolRequest,
    LessonOut,
    LessonRef,
    MergedProgressOut,
    OutlineLessonOut,
    OutlineModuleOut,
    OutlineOut,
    ProgrammeOut,
    ProgressIn,
    ProgressOut,
    ReflectionIn,
    ReflectionOut,
    ReflectionSavedOut,
    SegmentOut,
)
from app.web.auth import (
    CurrentUser,
    SentCsrfToken,
    enrolled_writer,
    sent_csrf_token,
    verify_csrf,
)
from app.web.deps import DB, write_unit
from app.web.errors import Problem
from app.web.hot_routes import Declined, served_hot_by
from app.web.learn import current_release

router = APIRouter(prefix="/api/v1", tags=["learning"])


def _not_enrolled(programme: str) -> Problem:
    return Problem(
        404,
        f"You are not enrolled in “{programme}”. Enrol with POST /api/v1/enrolments.",
        slug="not-enrolled",
    )


def _enrolment(db: Session, user: User, programme: str) -> tuple[Enrolment, Release]:
    enrolment = learning.enrolment_for(db, user.id, programme)
    if enrolment is None:
        raise _not_enrolled(programme)
    return enrolment, load_release(db, enrolment.release_id)


def _lesson_key(release: Release, module_id: str, lesson_id: str) -> tuple[str, str]:
    if (module_id, lesson_id) not in set(release.lesson_ids()):
        raise Problem(404, "This lesson does not exist in your release of the programme.")
    return module_id, lesson_id


def _enrolment_out(db: Session, enrolment: Enrolment) -> EnrolmentOut:
    release = load_release(db, enrolment.release_id)
    newer = learning.newer_release(db, enrolment)
    return EnrolmentOut(
        programme_id=enrolment.programme_id,
        title=release.programme.title,
        version=release.version,
        enrolled_at=enrolment.enrolled_at,
        cohort_id=enrolment.cohort_id,
        newer_version=newer[1].new_version if newer else None,
        progress=ProgressOut.of(learning.load_progress(db, enrolment, release)),
        competencies=[
            CompetencyOut(id=c.id, name=c.name, core=c.core, level=c.level)
            for c in learning.competency_summary(db, enrolment, release)
        ],
        certificate_status=learning.certificate_status(db, enrolment, release),
    )


@router.get("/programmes", response_model=list[ProgrammeOut], responses=problems(401))
def programmes(db: DB, user: CurrentUser) -> list[ProgrammeOut]:
    """Every published programme (its current release), and whether you are enrolled."""
    enrolled = {e.programme_id for e in learning.enrolments_of(db, user.id)}
    return [
        ProgrammeOut(
            id=release.programme.id,
            title=release.programme.title,
            version=release.version,
            summary=release.programme.summary,
            enrolled=release.programme.id in enrolled,
        )
        for release in (release_of(record) for record in programme_records(db))
    ]


@router.post(
    "/enrolments",
    status_code=201,
    response_model=EnrolmentOut,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def enrol(
    request: Request, body: EnrolRequest, db: DB, user: CurrentUser, key: IdempotencyKey = None
) -> Response:
    """Enrol in a programme, or join a cohort by its join code (enrolling twice is harmless)."""

    def write() -> tuple[int, EnrolmentOut]:
        try:
            if body.join_code is not None:
                enrolment = learning.join_cohort(db, user, body.join_code)
            else:
                assert body.programme_id is not None
                current_release(db, body.programme_id)
                enrolment = learning.enrol(db, user, body.programme_id)
        except EnrolmentError as error:
            raise Problem(404, str(error), slug="unknown-join-code") from None
        return 201, _enrolment_out(db, enrolment)

    return run_once(request, db, user, key, body, write)


@router.get("/enrolments", response_model=list[EnrolmentOut], responses=problems(401))
def enrolments(db: DB, user: CurrentUser) -> list[EnrolmentOut]:
    """Your enrolments, each with its progress summary, competencies and certificate status."""
    return [_enrolment_out(db, e) for e in learning.enrolments_of(db, user.id)]


@router.get(
    "/enrolments/{programme}", response_model=EnrolmentOut, responses=problems(401, 404, 422)
)
def enrolment(programme: str, db: DB, user: CurrentUser) -> EnrolmentOut:
    enrolment, _ = _enrolment(db, user, programme)
    return _enrolment_out(db, enrolment)


@router.get(
    "/enrolments/{programme}/outline", response_model=OutlineOut, responses=problems(401, 404, 422)
)
def outline(programme: str, db: DB, user: CurrentUser) -> OutlineOut:
    """Your release's modules and lessons, with what you have completed."""
    enrolment, release = _enrolment(db, user, programme)
    progress = learning.load_progress(db, enrolment, release)
    return OutlineOut(
        programme_id=release.programme.id,
        title=release.programme.title,
        version=release.version,
        modules=[
            OutlineModuleOut(
                id=mp.module.id,
                title=mp.module.title,
                status=mp.status,
                status_text=mp.status_words,
                lessons_completed=mp.completed,
                lessons_total=mp.total,
                waiting_for=[m.id for m in mp.waiting_for],
                minutes=mp.module.minutes,
                lessons=[
                    OutlineLessonOut(
                        id=lesson.id,
                        title=lesson.title,
                        minutes=lesson.minutes,
                        completed=(mp.module.id, lesson.id) in progress.completed,
                    )
                    for lesson in mp.module.lessons
                ],
            )
            for mp in progress.modules
        ],
    )


@router.get(
    "/enrolments/{programme}/lessons/{module_id}/{lesson_id}",
    response_model=LessonOut,
    responses=problems(401, 403, 404, 422),
)
def lesson(
    programme: str, module_id: str, lesson_id: str, db: DB, user: CurrentUser, lang: str = ""
) -> Response:
    """A lesson's content, with your saved reflections. Reading here records nothing: report
    your position and time with POST …/progress."""
    enrolment, release = _enrolment(db, user, programme)
    _lesson_key(release, module_id, lesson_id)
    progress = learning.load_progress(db, enrolment, release)
    module_progress = progress.module_progress(module_id)
    if module_progress.locked:
        raise Problem(
            403,
            "This module opens when you have finished: "
            + ", ".join(m.title for m in module_progress.waiting_for),
            slug="prerequisites-not-met",
            extra={"waiting_for": [m.id for m in module_progress.waiting_for]},
        )
    the_lesson = release.lesson(module_id, lesson_id)
    language = lang if lang in release.programme.languages else release.programme.default_language
    saved = learning.reflections_for_lesson(db, enrolment, module_id, lesson_id)
    order = release.lesson_ids()
    here = order.index((module_id, lesson_id))

    def ref(index: int) -> LessonRef | None:
        if 0 <= index < len(order):
            return LessonRef(module_id=order[index][0], lesson_id=order[index][1])
        return None

    body = LessonOut(
        module_id=module_id,
        lesson_id=lesson_id,
        title=the_lesson.title_for(language),
        minutes=the_lesson.minutes,
        completed=(module_id, lesson_id) in progress.completed,
        previous=ref(here - 1),
        next=ref(here + 1),
        segments=[
            SegmentOut(
                kind=segment.kind,
                html=segment.html,
                ref=segment.ref,
                reflection=_reflection_out(saved.get(segment.ref))
                if segment.kind == "reflection" and segment.ref
                else None,
            )
            for segment in the_lesson.segments_for(language)
        ],
    )
    return Response(
        body.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


def aware(moment: datetime) -> datetime:
    """Times without a zone are taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reflection_out(reflection: object) -> ReflectionOut | None:
    if reflection is None:
        return None
    return ReflectionOut.model_validate(reflection, from_attributes=True)


@router.post(
    "/enrolments/{programme}/lessons/{module_id}/{lesson_id}/complete",
    response_model=ProgressOut,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def complete(
    request: Request,
    programme: str,
    module_id: str,
    lesson_id: str,
    db: DB,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> Response:
    """Mark a lesson complete (again is harmless). Returns your progress."""
    enrolment, release = _enrolment(db, user, programme)
    _lesson_key(release, module_id, lesson_id)

    def write() -> tuple[int, ProgressOut]:
        learning.mark_complete(db, enrolment, module_id, lesson_id)
        return 200, ProgressOut.of(learning.load_progress(db, enrolment, release))

    return run_once(request, db, user, key, None, write)


@router.put(
    "/enrolments/{programme}/lessons/{module_id}/{lesson_id}/reflections/{prompt_id}",
    response_model=ReflectionSavedOut,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def save_reflection(
    request: Request,
    programme: str,
    module_id: str,
    lesson_id: str,
    prompt_id: str,
    body: ReflectionIn,
    db: DB,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> Response:
    """Save your private reflection (shared with your trainer only if you say so)."""
    enrolment, release = _enrolment(db, user, programme)
    _lesson_key(release, module_id, lesson_id)
    if prompt_id not in release.lesson(module_id, lesson_id).reflection_ids:
        raise Problem(404, "This lesson has no such reflection prompt.")

    def write() -> tuple[int, ReflectionSavedOut]:
        saved = learning.save_reflection(
            db,
            enrolment,
            module_id,
            lesson_id,
            prompt_id,
            body.text,
            shared_with_trainer=body.shared_with_trainer,
        )
        return 200, ReflectionSavedOut(
            prompt_id=saved.prompt_id,
            characters=len(saved.text),
            shared_with_trainer=saved.shared_with_trainer,
            updated_at=saved.updated_at,
        )

    response = run_once(request, db, user, key, body, write)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _merge_progress_fast(request: Request, programme: str) -> Response:
    """`merge_progress` as a hot route: an ordinary request (a JSON body that validates, an
    Idempotency-Key FastAPI would accept) is served here; any other goes to the router."""
    body = await request.body()
    key = request.headers.get("idempotency-key")
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not body or media_type != "application/json" or (key is not None and len(key) > 255):
        raise Declined(body)
    try:
        report = ProgressIn.model_validate(json.loads(body))
    except ValueError:  # not JSON, or not valid progress (ValidationError is a ValueError)
        raise Declined(body) from None
    return await _merge(request, programme, report, await sent_csrf_token(request), key)


@router.post(
    "/enrolments/{programme}/progress",
    response_model=MergedProgressOut,
    responses=problems(400, 401, 403, 404, 409, 422),
)
@served_hot_by(_merge_progress_fast)
async def merge_progress(
    request: Request,
    programme: str,
    body: ProgressIn,
    sent_csrf: SentCsrfToken,
    key: IdempotencyKey = None,
) -> Response:
    """Merge progress recorded by a client (offline catch-up): completions are added, the
    newest position wins, reading time is added (at most an hour a lesson per write).

    Sign in with a bearer token, or with the session cookie and an `X-CSRF-Token` header."""
    return await _merge(request, programme, body, sent_csrf, key)


async def _merge(
    request: Request, programme: str, body: ProgressIn, sent_csrf: str, key: str | None
) -> Response:
    report = ReportedProgress(
        completed=[
            ((c.module_id, c.lesson_id), aware(c.at) if c.at else None) for c in body.completed
        ],
        position=(
            ((body.position.module_id, body.position.lesson_id), aware(body.position.at))
            if body.position
            else None
        ),
        seconds=[((t.module_id, t.lesson_id), t.seconds) for t in body.time],
    )

    def unit(db: Connectable) -> Response:
        # The hot write path: the sign-in check, the CSRF check and the merge run in one
        # transaction (on SQLite, one group commit shared with the other writes waiting),
        # with prepared statements and no ORM objects.
        account, enrolment = enrolled_writer(request, db, sent_csrf, programme)
        if enrolment is None:
            raise _not_enrolled(programme)
        release = enrolment.release

        def write() -> tuple[int, MergedProgressOut]:
            merged = learning.merge_progress(db, enrolment, release, report)
            return 200, MergedProgressOut.of(
                merged.progress,
                ignored=[LessonRef(module_id=m, lesson_id=lesson) for m, lesson in merged.ignored],
            )

        return run_once(request, db, account, key, body, write)

    return await write_unit(request, unit)


@router.post(
    "/enrolments/{programme}/move-to-new-version",
    response_model=EnrolmentOut,
    dependencies=[verify_csrf],
    responses=problems(401, 403, 404, 422),
)
def move_to_new_version(programme: str, db: DB, user: CurrentUser) -> EnrolmentOut:
    """Move to the programme's newest release; completed lessons that still exist carry over."""
    enrolment, _ = _enrolment(db, user, programme)
    learning.move_to_current_release(db, enrolment)
    return _enrolment_out(db, enrolment)
