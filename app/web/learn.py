"""Reading the curriculum: programme list, outline, module, lesson and glossary pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from app.catalog import UnknownProgramme, current_record, programme_records, release_of
from app.compiler import Release
from app.web.deps import DB
from app.web.errors import Problem
from app.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _release(db: DB, programme: str) -> Release:
    try:
        return release_of(current_record(db, programme))
    except UnknownProgramme:
        raise Problem(404, f"There is no programme called “{programme}”.") from None


def _language(request: Request, release: Release) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in release.programme.languages else release.programme.default_language


@router.get("/")
def index(request: Request, db: DB) -> Response:
    programmes = [release_of(record) for record in programme_records(db)]
    return render(request, "index.html", {"programmes": programmes})


@router.get("/learn/{programme}")
def outline(request: Request, programme: str, db: DB) -> Response:
    release = _release(db, programme)
    return render(
        request, "outline.html", {"release": release, "lang": _language(request, release)}
    )


@router.get("/learn/{programme}/glossary")
def glossary(request: Request, programme: str, db: DB) -> Response:
    release = _release(db, programme)
    return render(request, "glossary.html", {"release": release})


@router.get("/learn/{programme}/{module_id}")
def module_page(request: Request, programme: str, module_id: str, db: DB) -> Response:
    release = _release(db, programme)
    try:
        module = release.module(module_id)
    except KeyError:
        raise Problem(404, f"This programme has no module called “{module_id}”.") from None
    return render(
        request,
        "module.html",
        {"release": release, "module": module, "lang": _language(request, release)},
    )


@router.get("/learn/{programme}/{module_id}/{lesson_id}")
def lesson_page(
    request: Request, programme: str, module_id: str, lesson_id: str, db: DB
) -> Response:
    release = _release(db, programme)
    try:
        module = release.module(module_id)
        lesson = release.lesson(module_id, lesson_id)
    except KeyError:
        raise Problem(404, "This lesson does not exist in the programme.") from None
    order = release.lesson_ids()
    here = order.index((module_id, lesson_id))
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
        },
    )
