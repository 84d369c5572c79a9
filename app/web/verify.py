"""Public verification pages (no login), the issuer's published keys, profile and status lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.config import Settings
from app.credentials.ids import InvalidCertificateId, parse_certificate_id
from app.credentials.issuance import key_ring, revoked_indexes
from app.credentials.openbadges import sign_status_list, status_list_credential
from app.credentials.verification import verify_pdf
from app.store.base import utcnow
from app.store.prepared import RawConnection
from app.web.api.certificates import (
    PDF_UPLOAD_LIMIT,
    pdf_verification_out,
    throttle_anonymous,
    verify_one,
)
from app.web.api.responses import content, error_page
from app.web.auth import caller
from app.web.deps import DB, AppSettings, read_unit
from app.web.errors import Problem
from app.web.hot_routes import hot
from app.web.rendering import render

router = APIRouter(tags=["verification"])

REASON_WORDS = {
    "issued-in-error": "issued in error",
    "misconduct": "conduct",
    "assessment-invalidated": "assessment results withdrawn",
    "holder-request": "at the holder's request",
    "other": "other reasons",
}


@router.get("/verify", include_in_schema=False)
def verify_form(request: Request, db: DB, settings: AppSettings, id: str = "") -> Response:
    """One site-wide page that accepts any certificate ID (or a PDF upload)."""
    if not id.strip():
        return render(request, "verify.html", {"typed": "", "error": None})
    try:
        public_id = parse_certificate_id(id)
    except InvalidCertificateId as error:
        verify_one(request, db, settings, id)  # the same work as an unknown ID
        return render(request, "verify.html", {"typed": id[:80], "error": str(error)}, 422)
    return RedirectResponse(f"/verify/{public_id}", status_code=303)


@router.get("/verify/{certificate_id}", include_in_schema=False)
@hot
async def verify_page(request: Request, certificate_id: str) -> Response:
    """What the QR code opens: the certificate's status and what it states."""
    settings: Settings = request.app.state.settings

    def page(db: RawConnection) -> Response:
        caller(request, db)  # who is signed in, for the page's header (same session)
        result = verify_one(request, db, settings, certificate_id)
        return render(
            request,
            "verify_result.html",
            {"result": result, "reason_words": REASON_WORDS, "pdf": None},
            404 if result.status == "unknown" else 200,
        )

    return await read_unit(request, page)


@router.post("/verify/pdf", include_in_schema=False)
async def verify_pdf_page(
    request: Request,
    db: DB,
    settings: AppSettings,
    file: UploadFile = File(...),
) -> Response:
    """Upload a PDF: is it byte for byte a certificate this issuer issued?"""
    await run_in_threadpool(throttle_anonymous, request, db)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > PDF_UPLOAD_LIMIT + 64 * 1024:
        raise Problem(413, "That file is larger than 5 MB; choose the certificate PDF itself.")
    pdf = await file.read(PDF_UPLOAD_LIMIT + 1)
    if len(pdf) > PDF_UPLOAD_LIMIT:
        raise Problem(413, "That file is larger than 5 MB; choose the certificate PDF itself.")
    result = await run_in_threadpool(verify_pdf, db, pdf, key_ring(settings))
    outcome = pdf_verification_out(result, settings)
    return render(
        request,
        "verify_result.html",
        {"result": outcome.verification, "reason_words": REASON_WORDS, "pdf": outcome},
        200 if outcome.matches else 422,
    )


@router.get(
    "/.well-known/jwks.json",
    response_class=Response,
    responses=content("application/jwk-set+json", "The public keys as a JWK Set."),
)
def jwks(settings: AppSettings) -> JSONResponse:
    """The issuer's public signing keys (current first; retired keys stay for old certificates)."""
    return JSONResponse(
        key_ring(settings).jwks(),
        headers={"Cache-Control": "public, max-age=300"},
        media_type="application/jwk-set+json",
    )


@router.get("/issuer")
def issuer(settings: AppSettings) -> dict[str, Any]:
    """The issuer's Open Badges profile (the `issuer.id` of every credential)."""
    base = settings.base_url.rstrip("/")
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"{base}/issuer",
        "type": ["Profile"],
        "name": settings.site_name,
        "url": base,
        "jwks_uri": f"{base}/.well-known/jwks.json",
    }


@router.get(
    "/status-lists/{number}",
    response_class=Response,
    responses={
        **content("application/vc+jwt", "The status list credential as a VC-JWT."),
        **error_page(404, 422),
    },
)
def status_list(number: int, db: DB, settings: AppSettings) -> Response:
    """A revocation Bitstring Status List credential, signed as a VC-JWT; built on request so
    a revocation shows at once."""
    if not 1 <= number <= 10_000:
        raise Problem(404, "There is no such status list.", slug="status-list-not-found")
    now = utcnow()
    credential = status_list_credential(
        number,
        revoked_indexes(db, number),
        base_url=settings.base_url.rstrip("/"),
        issuer_name=settings.site_name,
        now=now,
    )
    token = sign_status_list(credential, key_ring(settings).signing_key(), now)
    return Response(
        token, media_type="application/vc+jwt", headers={"Cache-Control": "public, max-age=60"}
    )
