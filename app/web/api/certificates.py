"""API: certificate verification (public, bulk with a verifier key), Open Badges credential for
the holder, and issue / revoke / renew / re-issue for trainers and administrators."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.config import Settings
from app.credentials import issuance
from app.credentials.apikeys import is_valid_api_key
from app.credentials.ids import InvalidCertificateId, parse_certificate_id
from app.credentials.issuance import (
    Actor,
    CertificateError,
    NotEligible,
    UnknownCertificate,
    certificate_by_id,
    key_ring,
)
from app.credentials.openbadges import open_badge_credential, sign_vc_jwt
from app.credentials.record import CertificateRecord
from app.credentials.throttle import VerificationThrottle
from app.credentials.verification import MAX_BULK, PdfVerdict, Verdict, verify_many
from app.store.accounts import User
from app.store.certificates import REVOCATION_REASONS, Certificate
from app.store.learning import Enrolment
from app.store.prepared import Connectable, RawConnection
from app.web.api.responses import content, problems
from app.web.auth import CurrentUser, require_role, verify_csrf
from app.web.deps import DB, AppSettings, read_unit
from app.web.errors import Problem
from app.web.hot_routes import hot

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])

PDF_UPLOAD_LIMIT = 5 * 1024 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompetencyOut(BaseModel):
    id: str
    name: str
    level: str


class StatementOut(BaseModel):
    """What the certificate states: nothing more (no e-mail, no account)."""

    holder_name: str
    title: str
    programme_id: str
    programme_title: str
    release_version: str
    competencies: list[CompetencyOut]
    learning_hours: float
    issued_on: date
    expires_on: date | None
    issuer_name: str
    issuer_url: str
    version: int
    supersedes: str | None


class VerificationOut(BaseModel):
    id: str
    status: Literal["valid", "revoked", "expired", "superseded", "unknown", "invalid-signature"]
    explanation: str
    verification_url: str | None
    certificate: StatementOut | None
    revoked_on: date | None
    revocation_reason: str | None
    superseded_by: str | None


class BulkVerificationIn(Strict):
    ids: Annotated[
        list[Annotated[str, Field(max_length=80)]], Field(min_length=1, max_length=MAX_BULK)
    ]


class BulkVerificationOut(BaseModel):
    results: list[VerificationOut]


class PdfVerificationOut(BaseModel):
    matches: bool
    sha256: str
    explanation: str
    verification: VerificationOut | None


class IssueIn(Strict):
    enrolment_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    holder_name: Annotated[str | None, Field(max_length=200)] = None


class RevokeIn(Strict):
    reason: Literal[
        "issued-in-error", "misconduct", "assessment-invalidated", "holder-request", "other"
    ]
    note: Annotated[str, Field(max_length=500)] = ""


class RenewIn(Strict):
    continuing_education_hours: Annotated[float, Field(ge=0, le=10_000)]
    ethics_hours: Annotated[float, Field(ge=0, le=10_000)]


class ReissueIn(Strict):
    holder_name: Annotated[str, Field(min_length=1, max_length=200)]


class CertificateOut(BaseModel):
    id: str
    status: str
    version: int
    lineage_id: str
    holder_name: str
    issued_at: datetime
    expires_on: date | None
    pdf_sha256: str
    verification_url: str


assert set(REVOCATION_REASONS) == set(RevokeIn.model_fields["reason"].annotation.__args__)  # type: ignore[union-attr]


def statement(record: CertificateRecord) -> StatementOut:
    return StatementOut(
        holder_name=record.holder.name,
        title=record.programme.certificate_title,
        programme_id=record.programme.id,
        programme_title=record.programme.title,
        release_version=record.release.version,
        competencies=[
            CompetencyOut(id=c.id, name=c.name, level=c.level) for c in record.competencies
        ],
        learning_hours=record.learning_hours,
        issued_on=record.issued_on,
        expires_on=record.expires_on,
        issuer_name=record.issuer.name,
        issuer_url=record.issuer.url,
        version=record.version,
        supersedes=record.supersedes,
    )


def verification_out(verdict: Verdict, settings: Settings) -> VerificationOut:
    return _verification_out(verdict, settings.base_url)


# A verdict is an immutable value, and the same verdict always gives the same answer: the
# answer is remembered (a QR code is scanned again and again). Nothing may change the model.
@functools.lru_cache(maxsize=4096)
def _verification_out(verdict: Verdict, base_url: str) -> VerificationOut:
    known = verdict.record is not None
    return VerificationOut(
        id=verdict.id,
        status=verdict.outcome.value,
        explanation=verdict.explanation,
        verification_url=issuance.verify_url(base_url, verdict.id) if known else None,
        certificate=statement(verdict.record) if verdict.record is not None else None,
        revoked_on=verdict.revoked_at.date() if verdict.revoked_at else None,
        revocation_reason=verdict.revocation_reason,
        superseded_by=verdict.superseded_by,
    )


@functools.lru_cache(maxsize=4096)
def _verification_json(verdict: Verdict, base_url: str) -> str:
    return _verification_out(verdict, base_url).model_dump_json()


def pdf_verification_out(result: PdfVerdict, settings: Settings) -> PdfVerificationOut:
    return PdfVerificationOut(
        matches=result.matches,
        sha256=result.sha256,
        explanation=result.explanation,
        verification=verification_out(result.verdict, settings) if result.verdict else None,
    )


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def throttle_anonymous(request: Request, db: Connectable) -> None:
    """Rate-limit verification by client address unless a valid verifier key is presented.

    Call it before the request's own session touches the database: the shared counter is
    written on a connection of its own, which must not wait for this request's transaction.
    """
    presented = _bearer(request)
    if presented:
        if not is_valid_api_key(db, presented):
            raise Problem(
                401,
                "That verifier API key is not valid (or was withdrawn). Leave the Authorization "
                "header out to verify without a key, or ask the issuer for a new one.",
                slug="verifier-key-invalid",
                headers={"WWW-Authenticate": 'Bearer realm="verification"'},
            )
        return
    throttle: VerificationThrottle | None = getattr(
        request.app.state, "verification_throttle", None
    )
    if throttle is None:
        throttle = VerificationThrottle(request.app.state.database.writer)
        request.app.state.verification_throttle = throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.hit(f"verify:{address}")
    if wait:
        raise Problem(
            429,
            f"Too many verification requests from your address. Try again in {wait} seconds, "
            "or ask us for a verifier API key for bulk checks.",
            slug="too-many-verifications",
            title="Too many requests",
            headers={"Retry-After": str(wait)},
        )


def verify_one(
    request: Request, db: Connectable, settings: Settings, certificate_id: str
) -> VerificationOut:
    """One ID as typed or scanned, counted against the anonymous limit unless a key is sent."""
    return verification_out(_verdict_for_one(request, db, settings, certificate_id), settings)


def _verdict_for_one(
    request: Request, db: Connectable, settings: Settings, certificate_id: str
) -> Verdict:
    throttle_anonymous(request, db)
    return verify_many(db, [certificate_id[:80]], key_ring(settings))[0]


@router.get(
    "/{certificate_id}/verification",
    response_model=VerificationOut,
    responses=problems(401, 422, 429),
)
@hot
async def verification(request: Request, certificate_id: str) -> Response:
    """Verify one certificate ID (as printed, any case, with or without dashes). Public."""
    settings: Settings = request.app.state.settings

    def check(db: RawConnection) -> str:
        # The QR code's and the checkers' path: one prepared read; the answer for a verdict is
        # remembered as JSON (a validated model, not re-validated against response_model).
        verdict = _verdict_for_one(request, db, settings, certificate_id)
        return _verification_json(verdict, settings.base_url)

    return Response(await read_unit(request, check), media_type="application/json")


@router.post(
    "/verifications", response_model=BulkVerificationOut, responses=problems(400, 401, 422)
)
def bulk_verification(
    body: BulkVerificationIn, request: Request, db: DB, settings: AppSettings
) -> BulkVerificationOut:
    """Verify up to 1,000 IDs at once. Needs a verifier API key: `Authorization: Bearer ppv_…`."""
    presented = _bearer(request)
    if not presented or not is_valid_api_key(db, presented):
        raise Problem(
            401,
            "Bulk verification needs a verifier API key in the Authorization header "
            "(Bearer ppv_…). Ask the issuer's administrator for one.",
            slug="verifier-key-required",
            headers={"WWW-Authenticate": 'Bearer realm="verification"'},
        )
    verdicts = verify_many(db, body.ids, key_ring(settings))
    return BulkVerificationOut(results=[verification_out(v, settings) for v in verdicts])


@router.post(
    "/pdf-verifications", response_model=PdfVerificationOut, responses=problems(401, 413, 429)
)
async def pdf_verification(request: Request, db: DB, settings: AppSettings) -> PdfVerificationOut:
    """Check that a PDF (the raw request body, `application/pdf`) is exactly as issued."""
    from app.credentials.verification import verify_pdf

    await run_in_threadpool(throttle_anonymous, request, db)
    pdf = await read_limited(request)
    result = await run_in_threadpool(verify_pdf, db, pdf, key_ring(settings))
    return pdf_verification_out(result, settings)


async def read_limited(request: Request, limit: int = PDF_UPLOAD_LIMIT) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        f"That file is larger than {limit // (1024 * 1024)} MB; certificate PDFs are much "
        "smaller. Check that you chose the certificate itself.",
        slug="file-too-large",
    )


# --- the holder's own certificate ---------------------------------------------------------


def _own_certificate(db: Session, certificate_id: str, user: User) -> Certificate:
    try:
        public_id = parse_certificate_id(certificate_id)
        certificate = certificate_by_id(db, public_id)
    except (InvalidCertificateId, UnknownCertificate):
        certificate = None
    allowed = certificate is not None and (
        certificate.user_id == user.id or user.role in ("trainer", "admin")
    )
    if certificate is None or not allowed:
        raise Problem(404, "You have no certificate with this ID.", slug="certificate-not-found")
    return certificate


@router.get(
    "/{certificate_id}/credential",
    response_class=Response,
    responses={
        **content("application/vc+jwt", "The Open Badges 3.0 credential as a VC-JWT."),
        **problems(401, 404, 422),
    },
)
def credential(certificate_id: str, db: DB, settings: AppSettings, user: CurrentUser) -> Response:
    """The holder's Open Badges 3.0 credential, signed as a VC-JWT (`application/vc+jwt`)."""
    certificate = _own_certificate(db, certificate_id, user)
    record = CertificateRecord.from_canonical_json(certificate.record_json)
    badge = open_badge_credential(
        record,
        base_url=settings.base_url.rstrip("/"),
        status_list=certificate.status_list,
        status_index=certificate.status_list_index,
    )
    token = sign_vc_jwt(badge, key_ring(settings).signing_key(), record)
    return Response(
        token,
        media_type="application/vc+jwt",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{certificate.public_id}.jwt"',
        },
    )


@router.get(
    "/{certificate_id}/pdf",
    response_class=Response,
    responses={
        **content("application/pdf", "The certificate PDF, exactly as issued."),
        **problems(401, 404, 422),
    },
)
def certificate_pdf(certificate_id: str, db: DB, user: CurrentUser) -> Response:
    """The holder's PDF, exactly as issued (its SHA-256 is what verifiers check)."""
    certificate = _own_certificate(db, certificate_id, user)
    return Response(
        certificate.pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{certificate.public_id}.pdf"',
        },
    )


# --- trainers and administrators ------------------------------------------------------------

Staff = Annotated[User, require_role("trainer", "admin")]


def certificate_out(certificate: Certificate, settings: Settings) -> CertificateOut:
    return CertificateOut(
        id=certificate.public_id,
        status=certificate.status,
        version=certificate.version,
        lineage_id=certificate.lineage_id,
        holder_name=certificate.holder_name,
        issued_at=certificate.issued_at,
        expires_on=certificate.expires_on,
        pdf_sha256=certificate.pdf_sha256,
        verification_url=issuance.verify_url(settings, certificate.public_id),
    )


def _refusal(error: CertificateError) -> Problem:
    if isinstance(error, NotEligible):
        return Problem(409, str(error), slug="not-eligible", extra={"unmet": list(error.unmet)})
    if isinstance(error, UnknownCertificate):
        return Problem(404, str(error), slug="certificate-not-found")
    return Problem(409, str(error), slug="certificate-refused")


@router.post(
    "",
    response_model=CertificateOut,
    status_code=201,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def issue(body: IssueIn, db: DB, settings: AppSettings, user: Staff) -> CertificateOut:
    """Issue the certificate of an enrolment that meets the programme's rules (idempotent)."""
    from app.credentials.progress import progress_of

    enrolment = db.get(Enrolment, body.enrolment_id)
    if enrolment is None:
        raise Problem(404, "There is no such enrolment.", slug="enrolment-not-found")
    try:
        certificate = issuance.issue_certificate(
            db,
            enrolment,
            progress_of(db, enrolment),
            settings=settings,
            actor=Actor.of(user),
            holder_name=body.holder_name,
        )
    except CertificateError as error:
        raise _refusal(error) from None
    return certificate_out(certificate, settings)


def _staff_action(certificate_id: str) -> str:
    try:
        return parse_certificate_id(certificate_id)
    except InvalidCertificateId as error:
        raise Problem(422, str(error), slug="invalid-certificate-id") from None


@router.post(
    "/{certificate_id}/revocation",
    response_model=CertificateOut,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def revoke(
    certificate_id: str, body: RevokeIn, db: DB, settings: AppSettings, user: Staff
) -> CertificateOut:
    """Revoke now, with a reason category (recorded in the audit log with who and when)."""
    try:
        certificate = issuance.revoke_certificate(
            db,
            _staff_action(certificate_id),
            reason=body.reason,
            actor=Actor.of(user),
            note=body.note,
        )
    except CertificateError as error:
        raise _refusal(error) from None
    return certificate_out(certificate, settings)


@router.post(
    "/{certificate_id}/renewal",
    response_model=CertificateOut,
    status_code=201,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def renew(
    certificate_id: str, body: RenewIn, db: DB, settings: AppSettings, user: Staff
) -> CertificateOut:
    """Renew with the continuing-education hours the programme's renewal rules ask for."""
    try:
        certificate = issuance.renew_certificate(
            db,
            _staff_action(certificate_id),
            continuing_education_hours=body.continuing_education_hours,
            ethics_hours=body.ethics_hours,
            settings=settings,
            actor=Actor.of(user),
        )
    except CertificateError as error:
        raise _refusal(error) from None
    return certificate_out(certificate, settings)


@router.post(
    "/{certificate_id}/reissue",
    response_model=CertificateOut,
    status_code=201,
    dependencies=[verify_csrf],
    responses=problems(400, 401, 403, 404, 409, 422),
)
def reissue(
    certificate_id: str, body: ReissueIn, db: DB, settings: AppSettings, user: Staff
) -> CertificateOut:
    """Re-issue after a name change: a new version and ID; the old one shows 'superseded by'."""
    try:
        certificate = issuance.reissue_certificate(
            db,
            _staff_action(certificate_id),
            settings=settings,
            actor=Actor.of(user),
            holder_name=body.holder_name,
        )
    except CertificateError as error:
        raise _refusal(error) from None
    return certificate_out(certificate, settings)
