"""Certificates in the browser: trainers issue and revoke them from a trainee's page, see a
cohort's certificates at a glance; holders find theirs (downloads, expiry) on the dashboard.

Issuing, revoking and their audit entries are `app.credentials.issuance`'s, as for the JSON API.
Downloads are the API's own holder-only routes (`/api/v1/certificates/{id}/pdf` and
`/credential`), which answer 404 to anyone but the holder, a trainer or an administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app import assessment, training
from app.config import Settings
from app.credentials import issuance
from app.credentials.issuance import Actor, CertificateError, NotEligible
from app.credentials.progress import progress_of
from app.credentials.record import CertificateRecord
from app.credentials.reminders import (
    ExpiryNotice,
    expiry_notice,
    held_certificate,
    renewal_rules,
)
from app.store.accounts import User
from app.store.base import utcnow
from app.store.certificates import REVOCATION_REASONS, Certificate
from app.store.learning import Cohort, Enrolment
from app.web.auth import require_role, verify_csrf
from app.web.deps import DB, AppSettings
from app.web.errors import Problem
from app.web.rendering import render
from app.web.verify import REASON_WORDS

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    dependencies=[require_role("trainer", "admin")],
)
Trainer = Annotated[User, require_role("trainer", "admin")]
BATCH_COMMAND = "peerpath certificates issue-batch --cohort {cohort_id}"


@dataclass(frozen=True)
class CertificateView:
    """What the trainer's panel and the holder's dashboard show of one certificate version."""

    id: str
    status: str  # issued | revoked | superseded
    holder_name: str
    version: int
    issued_on: date
    expires_on: date | None
    revoked_on: date | None
    revocation_reason: str
    verify_url: str
    pdf_url: str
    credential_url: str

    @property
    def expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < utcnow().date()


@dataclass(frozen=True)
class HeldCertificate:
    certificate: CertificateView
    notice: ExpiryNotice | None


def certificate_view(certificate: Certificate, settings: Settings) -> CertificateView:
    record = CertificateRecord.from_canonical_json(certificate.record_json)
    api = f"/api/v1/certificates/{certificate.public_id}"
    return CertificateView(
        id=certificate.public_id,
        status=certificate.status,
        holder_name=record.holder.name,
        version=record.version,
        issued_on=record.issued_on,
        expires_on=record.expires_on,
        revoked_on=certificate.revoked_at.date() if certificate.revoked_at else None,
        revocation_reason=REASON_WORDS.get(certificate.revocation_reason or "", ""),
        verify_url=issuance.verify_url(settings, certificate.public_id),
        pdf_url=f"{api}/pdf",
        credential_url=f"{api}/credential",
    )


@dataclass(frozen=True)
class TraineePanel:
    """The certificate panel of the trainer's trainee page."""

    certificate: CertificateView | None
    reasons: dict[str, str]


def trainee_panel(request: Request, db: Session, enrolment: Enrolment) -> TraineePanel:
    """The enrolment's newest certificate and the revocation reasons, for the trainee page."""
    certificate = held_certificate(db, enrolment.id)
    settings = request.app.state.settings
    return TraineePanel(
        certificate_view(certificate, settings) if certificate else None, REASON_WORDS
    )


def holder_certificate(
    request: Request, db: Session, enrolment: Enrolment
) -> HeldCertificate | None:
    """The signed-in holder's certificate for one enrolment, with an expiry notice when due."""
    certificate = held_certificate(db, enrolment.id)
    if certificate is None:
        return None
    notice = expiry_notice(certificate, renewal_rules(db, certificate), utcnow().date())
    return HeldCertificate(certificate_view(certificate, request.app.state.settings), notice)


def _cohort(db: Session, user: User, cohort_id: int) -> Cohort:
    try:
        return training.cohort_for(db, user, cohort_id)
    except training.CohortNotFound:
        raise Problem(404, "There is no cohort of yours at this address.") from None


def _member(db: Session, user: User, cohort_id: int, user_id: int) -> training.Member:
    cohort = _cohort(db, user, cohort_id)
    try:
        return training.member(db, cohort, user_id)
    except training.CohortNotFound:
        raise Problem(404, "This trainee is not in this cohort.") from None


def _trainee_page(cohort_id: int, user_id: int) -> str:
    return f"/train/cohorts/{cohort_id}/trainees/{user_id}"


@router.post(
    "/train/cohorts/{cohort_id}/trainees/{user_id}/certificate", dependencies=[verify_csrf]
)
def issue(
    request: Request,
    cohort_id: int,
    user_id: int,
    db: DB,
    settings: AppSettings,
    user: Trainer,
    holder_name: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Issue the trainee's certificate if they are eligible (a second click changes nothing)."""
    found = _member(db, user, cohort_id, user_id)
    try:
        certificate = issuance.issue_certificate(
            db,
            found.enrolment,
            progress_of(db, found.enrolment),
            settings=settings,
            actor=Actor.of(user),
            holder_name=holder_name.strip() or None,
        )
    except CertificateError as error:
        return render(
            request,
            "train_certificate_refused.html",
            {
                "cohort_id": cohort_id,
                "trainee": found.user,
                "message": "Not eligible for a certificate yet."
                if isinstance(error, NotEligible)
                else str(error),
                "unmet": error.unmet if isinstance(error, NotEligible) else (),
            },
            status_code=409,
        )
    if back == "cohort":
        location = f"/train/cohorts/{cohort_id}/certificates?issued={certificate.public_id}"
    else:
        location = f"{_trainee_page(cohort_id, user_id)}?issued={certificate.public_id}#certificate"
    return RedirectResponse(location, status_code=303)


@router.post(
    "/train/cohorts/{cohort_id}/trainees/{user_id}/certificate/revocation",
    dependencies=[verify_csrf],
)
def revoke(
    request: Request,
    cohort_id: int,
    user_id: int,
    db: DB,
    user: Trainer,
    certificate_id: Annotated[str, Form(max_length=80)] = "",
    reason: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """First a confirmation page (or the form again, with what is missing); then revoke."""
    found = _member(db, user, cohort_id, user_id)
    certificate = held_certificate(db, found.enrolment.id)
    if certificate is None or certificate.public_id != certificate_id:
        raise Problem(404, "This trainee has no certificate with that ID.")
    errors = {}
    if reason not in REVOCATION_REASONS:
        errors["reason"] = "Choose the reason for revoking."
    if not note.strip():
        errors["note"] = "Write a note for the audit log: what happened, and who decided."
    if certificate.status != "issued":
        errors["form"] = (
            f"{certificate.public_id} is {certificate.status}, so it cannot be revoked."
        )
    if errors or confirm != "yes":
        return render(
            request,
            "train_certificate_revoke.html",
            {
                "cohort_id": cohort_id,
                "trainee": found.user,
                "certificate": certificate_view(certificate, request.app.state.settings),
                "reasons": REASON_WORDS,
                "errors": errors,
                "values": {"reason": reason, "note": note},
            },
            status_code=422 if errors else 200,
        )
    issuance.revoke_certificate(
        db, certificate.public_id, reason=reason, actor=Actor.of(user), note=note.strip()
    )
    return RedirectResponse(
        _trainee_page(cohort_id, user_id) + f"?revoked={certificate.public_id}#certificate",
        status_code=303,
    )


@dataclass(frozen=True)
class CohortCertificateRow:
    member: training.Member
    eligible: bool
    unmet: tuple[str, ...]
    certificate: CertificateView | None


@router.get("/train/cohorts/{cohort_id}/certificates")
def cohort_certificates(
    request: Request, cohort_id: int, db: DB, settings: AppSettings, user: Trainer
) -> Response:
    """Every trainee's certificate standing, with an issue button for each eligible one."""
    cohort = _cohort(db, user, cohort_id)
    rows = []
    for found in training.members(db, cohort):
        certificate = held_certificate(db, found.enrolment.id)
        unmet: tuple[str, ...] = ()
        if certificate is not None and certificate.status == "issued":
            eligible = True
        else:
            eligibility = assessment.enrolment_standing(db, found.enrolment).eligibility
            eligible, unmet = eligibility.eligible, tuple(eligibility.unmet)
        view = certificate_view(certificate, settings) if certificate else None
        rows.append(CohortCertificateRow(found, eligible, unmet, view))
    waiting = sum(
        1
        for row in rows
        if row.eligible and (row.certificate is None or row.certificate.status != "issued")
    )
    return render(
        request,
        "train_certificates.html",
        {
            "cohort": cohort,
            "rows": rows,
            "waiting": waiting,
            "batch_command": BATCH_COMMAND.format(cohort_id=cohort.id),
        },
    )
