"""The trainer's workspace: cohorts, dashboards and exports, authoring and publishing.

Every route here needs a trainer or administrator (checked once, on the router, before any
other dependency); every cohort is loaded through the caller's scope, so a trainer can never
reach another trainer's cohort, trainee or draft (404, the same as "no such thing").
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app import accounts, assessment, learning, training
from app.catalog import current_record, load_release, programme_records, release_of
from app.store.accounts import User
from app.store.learning import Cohort
from app.training import bundles
from app.web import certificate_pages
from app.web.auth import require_role, verify_csrf
from app.web.deps import DB, AppSettings
from app.web.errors import Problem
from app.web.rendering import render

log = logging.getLogger("peerpath.training")

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    dependencies=[require_role("trainer", "admin")],
)
Trainer = Annotated[User, require_role("trainer", "admin")]
FormText = Annotated[str, Form(max_length=2000)]


def _cohort(db: Session, user: User, cohort_id: int) -> Cohort:
    try:
        return training.cohort_for(db, user, cohort_id)
    except training.CohortNotFound:
        raise Problem(404, "There is no cohort of yours at this address.") from None


def _flash(request: Request) -> list[str]:
    messages = {
        "created": "Cohort created. Give trainees the join code, or add them from a file.",
        "invited": "Everyone in the file was added to the cohort.",
        "published": "Published. New enrolments start on this version; trainees already "
        "enrolled stay on theirs until they choose to move.",
    }
    return [text for key, text in messages.items() if request.query_params.get(key)]


def _bounded(limit: int) -> Any:
    """Refuse a request body over `limit` before it is read (and before the CSRF check reads it)."""

    def _check(request: Request) -> None:
        length = request.headers.get("content-length", "")
        if not length.isdigit():
            raise Problem(411, "Send the file as an ordinary form upload (with its length).")
        if int(length) > limit:
            raise Problem(
                413,
                f"The upload is {int(length) / (1024 * 1024):.1f} MB; the limit is "
                f"{limit // (1024 * 1024)} MB. Nothing was saved.",
                slug="upload-too-large",
            )

    return Depends(_check)


_UPLOAD_SLACK = 64 * 1024  # the form's other fields and multipart boundaries


# --- cohorts ----------------------------------------------------------------------------------


@router.get("/train")
def workspace(request: Request, db: DB, user: Trainer) -> Response:
    cohorts = training.visible_cohorts(db, user)
    trainers = {
        u.id: u
        for u in db.scalars(select(User).where(User.id.in_({c.trainer_id for c in cohorts})))
    }
    return render(
        request,
        "train_home.html",
        {
            "cohorts": cohorts,
            "trainers": trainers,
            "programmes": [release_of(r) for r in programme_records(db)],
            "errors": {},
            "values": {},
            "flashes": _flash(request),
        },
    )


@router.post("/train/cohorts", dependencies=[verify_csrf])
def create_cohort(
    request: Request, db: DB, user: Trainer, name: FormText, programme: FormText
) -> Response:
    try:
        cohort = training.create_cohort(db, user, name, programme)
    except training.CohortError as error:
        cohorts = training.visible_cohorts(db, user)
        return render(
            request,
            "train_home.html",
            {
                "cohorts": cohorts,
                "trainers": {user.id: user},
                "programmes": [release_of(r) for r in programme_records(db)],
                "errors": {"name": str(error)},
                "values": {"name": name, "programme": programme},
            },
            status_code=422,
        )
    return RedirectResponse(f"/train/cohorts/{cohort.id}/members?created=1", status_code=303)


@router.get("/train/cohorts/{cohort_id}")
def cohort_page(request: Request, cohort_id: int, db: DB, user: Trainer) -> Response:
    cohort = _cohort(db, user, cohort_id)
    stuck_days = training.stuck_days_from(request.query_params.get("stuck_days"))
    dashboard = training.cohort_dashboard(db, cohort, stuck_days=stuck_days)
    return render(request, "train_cohort.html", {"d": dashboard, "flashes": _flash(request)})


@router.get("/train/cohorts/{cohort_id}/export.csv")
def cohort_export(request: Request, cohort_id: int, db: DB, user: Trainer) -> Response:
    cohort = _cohort(db, user, cohort_id)
    stuck_days = training.stuck_days_from(request.query_params.get("stuck_days"))
    dashboard = training.cohort_dashboard(db, cohort, stuck_days=stuck_days)
    name = f"cohort-{cohort.id}-{dashboard.generated_at:%Y%m%d}.csv"
    return Response(
        training.cohort_csv(dashboard),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/train/cohorts/{cohort_id}/members")
def members_page(request: Request, cohort_id: int, db: DB, user: Trainer) -> Response:
    cohort = _cohort(db, user, cohort_id)
    return _members_page(request, db, cohort)


def _members_page(
    request: Request,
    db: Session,
    cohort: Cohort,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "train_members.html",
        {
            "cohort": cohort,
            "release": load_release(db, cohort.release_id),
            "members": training.members(db, cohort),
            "roster_errors": errors or [],
            "max_rows": training.cohorts.MAX_ROSTER_ROWS,
            "flashes": _flash(request),
        },
        status_code=status_code,
    )


@router.post(
    "/train/cohorts/{cohort_id}/roster",
    dependencies=[_bounded(training.cohorts.MAX_ROSTER_BYTES + _UPLOAD_SLACK), verify_csrf],
)
def upload_roster(
    request: Request,
    cohort_id: int,
    db: DB,
    user: Trainer,
    settings: AppSettings,
    tasks: BackgroundTasks,
    roster: Annotated[UploadFile, File()],
) -> Response:
    cohort = _cohort(db, user, cohort_id)
    data = roster.file.read(training.cohorts.MAX_ROSTER_BYTES + 1)
    checked = training.check_roster(db, cohort, data)
    if not checked.ok:
        return _members_page(request, db, cohort, errors=checked.errors, status_code=422)
    try:
        invited = training.invite_roster(db, cohort, checked, settings.resolved_secret_key)
    except training.CohortError as error:
        db.rollback()  # nobody from the file is kept
        return _members_page(request, db, cohort, errors=[str(error)], status_code=422)
    base = settings.base_url.rstrip("/")
    for person in invited:
        if person.reset_token:
            link = f"{base}/reset-password/{person.reset_token}"
            tasks.add_task(accounts.send_reset_link, settings, person.user.email, link)
    log.info("cohort %s: %d trainee(s) added from a roster", cohort.id, len(invited))
    return RedirectResponse(f"/train/cohorts/{cohort.id}/members?invited=1", status_code=303)


@router.get("/train/cohorts/{cohort_id}/trainees/{user_id}")
def trainee_page(request: Request, cohort_id: int, user_id: int, db: DB, user: Trainer) -> Response:
    cohort = _cohort(db, user, cohort_id)
    try:
        found = training.member(db, cohort, user_id)
    except training.CohortNotFound:
        raise Problem(404, "This trainee is not in this cohort.") from None
    release = load_release(db, found.enrolment.release_id)
    return render(
        request,
        "train_trainee.html",
        {
            "cohort": cohort,
            "trainee": found.user,
            "enrolment": found.enrolment,
            "release": release,
            "progress": learning.load_progress(db, found.enrolment, release),
            "standing": assessment.enrolment_standing(db, found.enrolment),
            "evidence": training.trainee_evidence(db, found.enrolment, user),
            "reflections": training.shared_reflections(db, found.enrolment.id),
            "certificate_panel": certificate_pages.trainee_panel(request, db, found.enrolment),
        },
    )


# --- ratings and moderation (lists over the assessment records) -----------------------------


@router.get("/train/ratings")
def ratings(request: Request, db: DB, user: Trainer) -> Response:
    return render(
        request,
        "train_ratings.html",
        {"queue": training.rating_queue(db, user), "followups": training.follow_ups(db, user)},
    )


@router.get("/train/ratings/agreement")
def agreement(request: Request, db: DB, user: Trainer) -> Response:
    return render(request, "train_agreement.html", {"rows": training.rater_agreement(db, user)})


@router.get("/train/moderation")
def moderation(request: Request, db: DB, user: Trainer) -> Response:
    return render(request, "train_moderation.html", {"lines": training.moderation_queue(db, user)})


# --- the JSON API -------------------------------------------------------------------------------


def _dashboard_json(dashboard: training.CohortDashboard) -> dict[str, Any]:
    return {
        "cohort": {
            "id": dashboard.cohort.id,
            "name": dashboard.cohort.name,
            "programme": dashboard.cohort.programme_id,
            "version": dashboard.release.version,
        },
        "stuck_days": dashboard.stuck_days,
        "modules": [{"id": m.id, "title": m.title} for m in dashboard.modules],
        "competencies": [{"id": c.id, "name": c.title} for c in dashboard.competencies],
        "trainees": [
            {
                "id": row.user_id,
                "name": row.name,
                "version": row.release_version,
                "lessons_completed": row.lessons_completed,
                "lessons_total": row.lessons_total,
                "percent": row.percent,
                "last_activity": row.last_activity.isoformat(),
                "days_inactive": row.days_inactive,
                "stuck": row.stuck_reasons,
                "modules": {c.module_id: c.label for c in row.modules},
                "competencies": {c.competency_id: c.level for c in row.competencies},
                "certificate": {"id": row.certificate_id, "status": row.certificate_status},
            }
            for row in dashboard.rows
        ],
    }


@router.get("/api/v1/train/cohorts", response_class=JSONResponse)
def api_cohorts(db: DB, user: Trainer) -> Response:
    return JSONResponse(
        [
            {"id": c.id, "name": c.name, "programme": c.programme_id, "join_code": c.join_code}
            for c in training.visible_cohorts(db, user)
        ]
    )


@router.get("/api/v1/train/cohorts/{cohort_id}", response_class=JSONResponse)
def api_cohort(request: Request, cohort_id: int, db: DB, user: Trainer) -> Response:
    cohort = _cohort(db, user, cohort_id)
    stuck_days = training.stuck_days_from(request.query_params.get("stuck_days"))
    return JSONResponse(
        _dashboard_json(training.cohort_dashboard(db, cohort, stuck_days=stuck_days)),
        headers={"Cache-Control": "no-store"},
    )


# --- authoring --------------------------------------------------------------------------------


def _draft(settings: AppSettings, user: User, draft_id: str) -> training.Draft:
    try:
        return training.load_draft(settings.data_dir, draft_id, user)
    except training.DraftNotFound:
        raise Problem(404, "There is no draft of yours at this address.") from None


def _authoring_page(
    request: Request,
    db: Session,
    settings: AppSettings,
    *,
    upload_error: str = "",
    status_code: int = 200,
) -> Response:
    programmes = []
    for record in programme_records(db):
        try:
            sources = training.current_sources(
                db, record.programme_id, settings.data_dir, settings.curriculum_path
            )
            files = training.markdown_files(sources.folder)
        except training.AuthoringError:
            sources, files = None, []
        programmes.append({"record": record, "sources": sources, "files": files})
    return render(
        request,
        "train_authoring.html",
        {
            "programmes": programmes,
            "upload_error": upload_error,
            "limits": {
                "compressed": bundles.MAX_COMPRESSED_BYTES // (1024 * 1024),
                "uncompressed": bundles.MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
                "files": bundles.MAX_FILES,
                "file": bundles.MAX_FILE_BYTES // (1024 * 1024),
            },
            "flashes": _flash(request),
        },
        status_code=status_code,
    )


@router.get("/train/authoring")
def authoring(request: Request, db: DB, settings: AppSettings, user: Trainer) -> Response:
    return _authoring_page(request, db, settings)


@router.post(
    "/train/authoring/upload",
    dependencies=[_bounded(bundles.MAX_COMPRESSED_BYTES + _UPLOAD_SLACK), verify_csrf],
)
def upload_bundle(
    request: Request,
    db: DB,
    settings: AppSettings,
    user: Trainer,
    bundle: Annotated[UploadFile, File()],
) -> Response:
    data = bundle.file.read(bundles.MAX_COMPRESSED_BYTES + 1)
    try:
        draft = training.draft_from_bundle(data, user, settings.data_dir)
    except training.BundleError as error:
        status = 413 if isinstance(error, bundles.BundleTooLarge) else 422
        return _authoring_page(request, db, settings, upload_error=str(error), status_code=status)
    return RedirectResponse(f"/train/authoring/drafts/{draft.id}", status_code=303)


@router.get("/train/authoring/{programme}/edit")
def edit_page(
    request: Request, programme: str, db: DB, settings: AppSettings, user: Trainer
) -> Response:
    path = request.query_params.get("path", "")
    try:
        sources = training.current_sources(
            db, programme, settings.data_dir, settings.curriculum_path
        )
    except training.AuthoringError as error:
        raise Problem(404, str(error)) from None
    if path not in training.markdown_files(sources.folder):
        raise Problem(404, "There is no such module Markdown file in the current release.")
    return render(
        request,
        "train_edit.html",
        {
            "programme": programme,
            "sources": sources,
            "path": path,
            "text": (sources.folder / path).read_text(encoding="utf-8"),
            "error": "",
        },
    )


@router.post("/train/authoring/{programme}/edit", dependencies=[verify_csrf])
def save_edit(
    request: Request,
    programme: str,
    db: DB,
    settings: AppSettings,
    user: Trainer,
    path: FormText,
    text: Annotated[str, Form(max_length=training.authoring.MAX_MARKDOWN_BYTES)],
) -> Response:
    try:
        sources = training.current_sources(
            db, programme, settings.data_dir, settings.curriculum_path
        )
        draft = training.draft_from_edit(sources, path, text, user, settings.data_dir)
    except training.AuthoringError as error:
        return render(
            request,
            "train_edit.html",
            {
                "programme": programme,
                "sources": None,
                "path": path,
                "text": text,
                "error": str(error),
            },
            status_code=422,
        )
    return RedirectResponse(f"/train/authoring/drafts/{draft.id}", status_code=303)


def _draft_page(
    request: Request,
    db: Session,
    draft: training.Draft,
    *,
    errors: dict[str, str] | None = None,
    refused: list[Any] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        current = current_record(db, draft.programme_id)
    except LookupError:
        current = None
    release = draft.release() if draft.publishable else None
    versions = (
        {bump: training.bumped(current.version, bump) for bump in training.BUMPS} if current else {}
    )
    return render(
        request,
        "train_draft.html",
        {
            "draft": draft,
            "release": release,
            "current": current,
            "versions": versions,
            "errors": errors or {},
            "refused": refused or [],
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/train/authoring/drafts/{draft_id}")
def draft_page(
    request: Request, draft_id: str, db: DB, settings: AppSettings, user: Trainer
) -> Response:
    return _draft_page(request, db, _draft(settings, user, draft_id))


@router.get("/train/authoring/drafts/{draft_id}/preview/{module_id}/{lesson_id}")
def preview_lesson(
    request: Request,
    draft_id: str,
    module_id: str,
    lesson_id: str,
    settings: AppSettings,
    user: Trainer,
) -> Response:
    draft = _draft(settings, user, draft_id)
    if not draft.publishable:
        raise Problem(409, "This draft has errors, so there is nothing to preview yet.")
    release = draft.release()
    try:
        module, lesson = release.module(module_id), release.lesson(module_id, lesson_id)
    except KeyError:
        raise Problem(404, "This lesson does not exist in the draft.") from None
    order = release.lesson_ids()
    here = order.index((module_id, lesson_id))
    lang = request.query_params.get("lang", "")
    return render(
        request,
        "train_preview.html",
        {
            "draft": draft,
            "release": release,
            "module": module,
            "lesson": lesson,
            "lang": lang
            if lang in release.programme.languages
            else release.programme.default_language,
            "previous": order[here - 1] if here > 0 else None,
            "next": order[here + 1] if here + 1 < len(order) else None,
            "done": False,
            "reflections": {},
            "saved": "",
            "errors": {},
            "drafts": {},
            "max_reflection": learning.reflections.MAX_REFLECTION_CHARS,
        },
    )


@router.post("/train/authoring/drafts/{draft_id}/publish", dependencies=[verify_csrf])
def publish(
    request: Request,
    draft_id: str,
    db: DB,
    settings: AppSettings,
    user: Trainer,
    tasks: BackgroundTasks,
    bump: FormText = "patch",
    changelog: FormText = "",
) -> Response:
    draft = _draft(settings, user, draft_id)
    try:
        published = training.publish_draft(
            db, draft, user, settings.data_dir, bump=bump, changelog=changelog
        )
    except training.PublishRefused as error:
        db.rollback()
        return _draft_page(
            request,
            db,
            draft,
            errors={"form": str(error)},
            refused=error.diagnostics,
            values={"bump": bump, "changelog": changelog},
            status_code=422,
        )
    except training.AuthoringError as error:
        db.rollback()
        return _draft_page(
            request,
            db,
            draft,
            errors={"changelog": str(error)},
            values={"bump": bump, "changelog": changelog},
            status_code=422,
        )
    tasks.add_task(training.discard_draft, draft)
    log.info(
        "user %s published %s %s", user.id, published.record.programme_id, published.record.version
    )
    return RedirectResponse("/train/authoring?published=1", status_code=303)


@router.post("/train/authoring/drafts/{draft_id}/discard", dependencies=[verify_csrf])
def discard(draft_id: str, settings: AppSettings, user: Trainer) -> Response:
    training.discard_draft(_draft(settings, user, draft_id))
    return RedirectResponse("/train/authoring", status_code=303)
