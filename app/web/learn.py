"""The learner's pages: programmes, dashboard, enrolment, outline, module and lesson pages,
marking lessons complete, and private reflections."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app import learning
from app.catalog import (
    UnknownProgramme,
    current_record,
    load_release,
    programme_records,
    release_of,
)
from app.compiler import CompiledLesson, CompiledModule, Release
from app.learning import EnrolledIn, EnrolmentError
from app.learning.progress import lesson_standing
from app.store.accounts import User
from app.store.learning import Enrolment
from app.store.prepared import Connectable, HasId, RawConnection
from app.web import certificate_pages
from app.web.auth import (
    CurrentUser,
    OptionalUser,
    enrolled_writer,
    sent_csrf_token,
    signed_in_enrolment,
    verify_csrf,
)
from app.web.deps import DB, read_then_write, write_unit
from app.web.errors import Problem
from app.web.hot_routes import hot
from app.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
log = logging.getLogger("peerpath.web")


def current_release(db: Session, programme: str) -> Release:
    """The programme's current release, or a 404 problem naming it."""
    try:
        return release_of(current_record(db, programme))
    except UnknownProgramme:
        raise Problem(404, f"There is no programme called “{programme}”.") from None


def _language(request: Request, release: Release) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in release.programme.languages else release.programme.default_language


def _enrolled(db: Session, user: User | None, programme: str) -> tuple[Enrolment | None, Release]:
    """The user's enrolment and the release it is pinned to; else the programme's current one."""
    enrolment = learning.enrolment_for(db, user.id, programme) if user else None
    if enrolment is None:
        return None, current_release(db, programme)
    return enrolment, load_release(db, enrolment.release_id)


def _module(release: Release, module_id: str) -> CompiledModule:
    try:
        return release.module(module_id)
    except KeyError:
        raise Problem(404, f"This programme has no module called “{module_id}”.") from None


def _lesson(
    release: Release, module_id: str, lesson_id: str
) -> tuple[CompiledModule, CompiledLesson]:
    try:
        return release.module(module_id), release.lesson(module_id, lesson_id)
    except KeyError:
        raise Problem(404, "This lesson does not exist in the programme.") from None


def _not_enrolled(release: Release) -> Problem:
    return Problem(
        403,
        f"You are not enrolled in “{release.programme.title}” yet. Open the programme "
        "and choose “Start this programme” first.",
        slug="not-enrolled",
    )


def _not_enrolled_in(request: Request, programme: str) -> Problem:
    with request.app.state.database.unit_of_work(write=False) as db:
        return _not_enrolled(current_release(db, programme))


def _require_enrolment(db: Session, user: User, programme: str) -> tuple[Enrolment, Release]:
    enrolment, release = _enrolled(db, user, programme)
    if enrolment is None:
        raise _not_enrolled(release)
    return enrolment, release


def _flash(request: Request) -> list[str]:
    messages = {
        "signed_out": "You have signed out.",
        "deleted": "Your account and your data have been deleted.",
        "completed": "Lesson marked as complete. Well done.",
        "saved": "Your reflection is saved. Only you can see it unless you share it.",
        "enrolled": "You are enrolled. You can start with the first lesson.",
        "moved": "You are now on the newest version. Lessons you completed still count.",
    }
    return [text for key, text in messages.items() if request.query_params.get(key)]


@router.get("/")
def index(request: Request, db: DB) -> Response:
    programmes = [release_of(record) for record in programme_records(db)]
    return render(request, "index.html", {"programmes": programmes, "flashes": _flash(request)})


@router.get("/dashboard")
def dashboard(request: Request, db: DB, user: CurrentUser) -> Response:
    rows: list[dict[str, Any]] = []
    enrolled = set()
    for enrolment in learning.enrolments_of(db, user.id):
        release = load_release(db, enrolment.release_id)
        enrolled.add(enrolment.programme_id)
        rows.append(
            {
                "enrolment": enrolment,
                "release": release,
                "progress": learning.load_progress(db, enrolment, release),
                "competencies": learning.competency_summary(db, enrolment, release),
                "certificate": learning.certificate_status(db, enrolment, release),
                "requirements": learning.certificate_requirements(db, enrolment, release),
                "held": certificate_pages.holder_certificate(request, db, enrolment),
                "newer": learning.newer_release(db, enrolment),
            }
        )
    available = [
        release_of(record)
        for record in programme_records(db)
        if record.programme_id not in enrolled
    ]
    return render(
        request,
        "dashboard.html",
        {"rows": rows, "available": available, "flashes": _flash(request)},
    )


@router.post("/learn/{programme}/enrol", dependencies=[verify_csrf])
def enrol(programme: str, db: DB, user: CurrentUser) -> Response:
    current_release(db, programme)
    learning.enrol(db, user, programme)
    return RedirectResponse(f"/learn/{programme}?enrolled=1", status_code=303)


@router.get("/join")
def join_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "join.html", {"errors": {}, "values": {}})


@router.post("/join", dependencies=[verify_csrf])
def join(
    request: Request,
    db: DB,
    user: CurrentUser,
    join_code: Annotated[str, Form(max_length=64)],
) -> Response:
    try:
        enrolment = learning.join_cohort(db, user, join_code)
    except EnrolmentError as error:
        return render(
            request,
            "join.html",
            {"errors": {"join_code": str(error)}, "values": {"join_code": join_code}},
            status_code=400,
        )
    return RedirectResponse(f"/learn/{enrolment.programme_id}?enrolled=1", status_code=303)


@router.get("/learn/{programme}")
def outline(request: Request, programme: str, db: DB, user: OptionalUser) -> Response:
    enrolment, release = _enrolled(db, user, programme)
    progress = learning.load_progress(db, enrolment, release) if enrolment else None
    newer = learning.newer_release(db, enrolment) if enrolment else None
    return render(
        request,
        "outline.html",
        {
            "release": release,
            "lang": _language(request, release),
            "enrolment": enrolment,
            "progress": progress,
            "newer": newer,
            "flashes": _flash(request),
        },
    )


@router.post("/learn/{programme}/move-to-new-version", dependencies=[verify_csrf])
def move_to_new_version(programme: str, db: DB, user: CurrentUser) -> Response:
    enrolment, _ = _require_enrolment(db, user, programme)
    learning.move_to_current_release(db, enrolment)
    return RedirectResponse(f"/learn/{programme}?moved=1", status_code=303)


@router.get("/learn/{programme}/glossary")
def glossary(request: Request, programme: str, db: DB, user: OptionalUser) -> Response:
    _, release = _enrolled(db, user, programme)
    return render(request, "glossary.html", {"release": release})


@router.get("/learn/{programme}/{module_id}")
def module_page(
    request: Request, programme: str, module_id: str, db: DB, user: OptionalUser
) -> Response:
    enrolment, release = _enrolled(db, user, programme)
    module = _module(release, module_id)
    progress = learning.load_progress(db, enrolment, release) if enrolment else None
    return render(
        request,
        "module.html",
        {
            "release": release,
            "module": module,
            "lang": _language(request, release),
            "progress": progress,
            "module_progress": progress.module_progress(module_id) if progress else None,
        },
    )


def _locked_page(
    request: Request, release: Release, module: CompiledModule, waiting_for: list[CompiledModule]
) -> Response:
    return render(
        request,
        "locked.html",
        {
            "release": release,
            "module": module,
            "waiting_for": waiting_for,
            "lang": _language(request, release),
        },
        status_code=403,
    )


@router.get("/learn/{programme}/{module_id}/{lesson_id}")
@hot
async def lesson_page(request: Request, programme: str, module_id: str, lesson_id: str) -> Response:
    """The most visited page (a hot route). It is read and rendered, then the visit (where
    the trainee is, time spent) is recorded, and the page is sent once that is saved: on
    SQLite a read-only transaction without the write lock, then the group commit; on a
    database server, one transaction (`read_then_write`)."""

    def page(db: RawConnection) -> tuple[Response, EnrolledIn | None]:
        _, enrolment = signed_in_enrolment(request, db, programme)
        if enrolment is None:
            return RedirectResponse(f"/learn/{programme}?enrol_first=1", status_code=303), None
        release = enrolment.release
        module, lesson = _lesson(release, module_id, lesson_id)
        standing = lesson_standing(db, enrolment, release, module, lesson.id)
        if standing.waiting_for:
            return _locked_page(request, release, module, standing.waiting_for), None
        response = _lesson_response(request, db, enrolment, release, standing.done, module, lesson)
        return response, enrolment

    def visit(db: Connectable, enrolment: EnrolledIn) -> None:
        learning.record_visit(db, enrolment, module_id, lesson_id)

    return await read_then_write(request, page, visit)


def _lesson_response(
    request: Request,
    db: Connectable,
    enrolment: HasId,
    release: Release,
    done: bool,
    module: CompiledModule,
    lesson: CompiledLesson,
    *,
    errors: dict[str, str] | None = None,
    drafts: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    order = release.lesson_ids()
    here = order.index((module.id, lesson.id))
    return render(
        request,
        "lesson.html",
        {
            "release": release,
            "module": module,
            "lesson": lesson,
            "lang": _language(request, release),
            "previous": order[here - 1] if here > 0 else None,
            "next": order[here + 1] if here + 1 < len(order) else None,
            "done": done,
            "reflections": learning.reflections_for_lesson(db, enrolment, module.id, lesson.id),
            "saved": request.query_params.get("saved", ""),
            "errors": errors or {},
            "drafts": drafts or {},
            "max_reflection": learning.reflections.MAX_REFLECTION_CHARS,
            "flashes": _flash(request),
        },
        status_code=status_code,
    )


@router.post("/learn/{programme}/{module_id}/{lesson_id}/complete")
@hot
async def complete(request: Request, programme: str, module_id: str, lesson_id: str) -> Response:
    """Mark a lesson as complete: a hot write, so it joins the group commit (on SQLite)."""
    sent_csrf = await sent_csrf_token(request)

    def write(db: Connectable) -> Release | None:
        _, enrolment = enrolled_writer(request, db, sent_csrf, programme)
        if enrolment is None:
            return None
        _lesson(enrolment.release, module_id, lesson_id)
        learning.mark_complete(db, enrolment, module_id, lesson_id)
        return enrolment.release

    release = await write_unit(request, write)
    if release is None:  # refused, naming the programme (read apart: a rare page)
        raise await run_in_threadpool(_not_enrolled_in, request, programme)
    order = release.lesson_ids()
    here = order.index((module_id, lesson_id))
    if here + 1 < len(order):
        next_module, next_lesson = order[here + 1]
        return RedirectResponse(
            f"/learn/{programme}/{next_module}/{next_lesson}?completed=1", status_code=303
        )
    return RedirectResponse(f"/learn/{programme}?completed=1", status_code=303)


@router.post(
    "/learn/{programme}/{module_id}/{lesson_id}/reflections/{prompt_id}",
    dependencies=[verify_csrf],
)
def save_reflection(
    request: Request,
    programme: str,
    module_id: str,
    lesson_id: str,
    prompt_id: str,
    db: DB,
    user: CurrentUser,
    text: Annotated[str, Form(max_length=200_000)] = "",
    share: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    enrolment, release = _require_enrolment(db, user, programme)
    module, lesson = _lesson(release, module_id, lesson_id)
    if prompt_id not in lesson.reflection_ids:
        raise Problem(404, "This lesson has no such reflection prompt.")
    try:
        learning.save_reflection(
            db, enrolment, module_id, lesson_id, prompt_id, text, shared_with_trainer=bool(share)
        )
    except learning.ReflectionTooLong as error:
        # Shown again with their text, so nothing they wrote is lost.
        return _lesson_response(
            request,
            db,
            enrolment,
            release,
            lesson_standing(db, enrolment, release, module, lesson.id).done,
            module,
            lesson,
            errors={prompt_id: str(error)},
            drafts={prompt_id: text},
            status_code=422,
        )
    return RedirectResponse(
        f"/learn/{programme}/{module_id}/{lesson_id}?saved={prompt_id}#reflection-{prompt_id}",
        status_code=303,
    )
