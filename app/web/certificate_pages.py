"""Certificates in the browser: trainers issue, renew, re-issue and revoke them from a trainee's
page, see a cohort's certificates at a glance; holders find theirs (downloads, expiry) on the
dashboard.

The actions and their audit entries are `app.credentials.issuance`'s, as for the JSON API.
Renewing, re-issuing and revoking each take two posts: the form (checked, every problem shown
at once), then a confirmation page whose `confirm=yes` post acts.
Downloads are the API's own holder-only routes (`/api/v1/certificates/{id}/pdf` and
`/credential`), which answer 404 to anyone but the holder, a trainer or an administrator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app import assessment, training
from app.config import Settings
from app.credentials import issuance
from app.credentials.issuance import Actor, CertificateError, NotEligible
from app.credentials.progress import progress_of
from app.credentials.record import CertificateRecord
from app.credentials.reminders import (
    NOTICE_DAYS,
    ExpiryNotice,
    expiry_notice,
    held_certificate,
    renewal_hours,
    renewal_rules,
)
from app.scoring.rules import RenewalRules
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
MAX_NAME_LENGTH = 200  # as the signed record allows
MAX_HOURS = 10_000  # as the API allows


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
    superseded_by: str | None
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
        superseded_by=certificate.superseded_by,
        verify_url=issuance.verify_url(settings, certificate.public_id),
        pdf_url=f"{api}/pdf",
        credential_url=f"{api}/credential",
    )


@dataclass(frozen=True)
class Renewal:
    """Renewal is offered from the expiry notice on: when it expires, and what it needs."""

    notice: ExpiryNotice
    needs: str  # the hours the programme's rules ask for ("" if none)


@dataclass(frozen=True)
class TraineePanel:
    """The certificate panel of the trainer's trainee page."""

    certificate: CertificateView | None
    reasons: dict[str, str]
    renewal: Renewal | None
    history: list[CertificateView]  # the earlier versions, newest first


def trainee_panel(request: Request, db: Session, enrolment: Enrolment) -> TraineePanel:
    """The enrolment's newest certificate, its earlier versions, whether it can be renewed yet,
    and the revocation reasons, for the trainee page."""
    certificate = held_certificate(db, enrolment.id)
    settings = request.app.state.settings
    if certificate is None:
        return TraineePanel(None, REASON_WORDS, None, [])
    rules = renewal_rules(db, certificate)
    notice = expiry_notice(certificate, rules, utcnow().date())
    earlier = [
        certificate_view(version, settings)
        for version in reversed(issuance.lineage(db, certificate.lineage_id))
        if version.id != certificate.id
    ]
    return TraineePanel(
        certificate_view(certificate, settings),
        REASON_WORDS,
        Renewal(notice, renewal_hours(rules)) if notice else None,
        earlier,
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


@dataclass(frozen=True)
class CertificateAction:
    """A renew, re-issue or revoke post: who acts, on which trainee's newest certificate, and
    whether this post is the confirmation (`confirm=yes`) or the form."""

    db: Session
    settings: Settings
    actor: Actor
    cohort_id: int
    member: training.Member
    certificate: Certificate
    confirmed: bool

    @property
    def trainee_page(self) -> str:
        return _trainee_page(self.cohort_id, self.member.user.id)


def _certificate_action(
    cohort_id: int,
    user_id: int,
    db: DB,
    settings: AppSettings,
    user: Trainer,
    certificate_id: Annotated[str, Form(max_length=80)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> CertificateAction:
    """The form must name the newest certificate, so that a form left open in another tab
    cannot act on a version that has since been replaced."""
    found = _member(db, user, cohort_id, user_id)
    certificate = held_certificate(db, found.enrolment.id)
    if certificate is None or certificate.public_id != certificate_id:
        raise Problem(404, "This trainee has no certificate with that ID.")
    return CertificateAction(
        db, settings, Actor.of(user), cohort_id, found, certificate, confirm == "yes"
    )


Action = Annotated[CertificateAction, Depends(_certificate_action)]


def _action_route(path: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """The POST route of a certificate action (CSRF-checked like every form)."""
    return router.post(
        f"/train/cohorts/{{cohort_id}}/trainees/{{user_id}}/certificate/{path}",
        dependencies=[verify_csrf],
    )


def _not_in_force(certificate: Certificate, action: str) -> dict[str, str]:
    if certificate.status == "issued":
        return {}
    return {"form": f"{certificate.public_id} is {certificate.status}, so it cannot be {action}."}


@dataclass(frozen=True)
class Refusal:
    """What the refused page says for one kind of action."""

    heading: str
    outcome: str
    not_eligible: str  # the lead-in to the list of unmet conditions


ISSUE_REFUSED = Refusal(
    "Certificate not issued", "Nothing was issued.", "Not eligible for a certificate yet."
)
RENEWAL_REFUSED = Refusal(
    "Certificate not renewed",
    "Nothing was changed: the certificate is as it was.",
    "The certificate cannot be renewed yet:",
)
REISSUE_REFUSED = Refusal(
    "Certificate not re-issued", "Nothing was changed: the certificate is as it was.", ""
)


def _refused(
    request: Request, cohort_id: int, trainee: User, error: CertificateError, refusal: Refusal
) -> Response:
    """The 409 page of a refused action, with every unmet condition listed."""
    unmet = error.unmet if isinstance(error, NotEligible) else ()
    return render(
        request,
        "train_certificate_refused.html",
        {
            "cohort_id": cohort_id,
            "trainee": trainee,
            "refusal": refusal,
            "message": refusal.not_eligible if unmet else str(error),
            "unmet": unmet,
        },
        status_code=409,
    )


def _action_refused(
    request: Request, action: CertificateAction, error: CertificateError, refusal: Refusal
) -> Response:
    return _refused(request, action.cohort_id, action.member.user, error, refusal)


def _action_page(
    request: Request,
    template: str,
    action: CertificateAction,
    *,
    errors: dict[str, str],
    values: dict[str, str],
    **extra: object,
) -> Response:
    """A lifecycle action's form again with what is wrong (422), or its confirmation page."""
    return render(
        request,
        template,
        {
            "cohort_id": action.cohort_id,
            "trainee": action.member.user,
            "certificate": certificate_view(action.certificate, action.settings),
            "errors": errors,
            "values": values,
            **extra,
        },
        status_code=422 if errors else 200,
    )


def _done(trainee_page: str, what: str, public_id: str) -> Response:
    return RedirectResponse(f"{trainee_page}?{what}={public_id}#certificate", status_code=303)


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
        return _refused(request, cohort_id, found.user, error, ISSUE_REFUSED)
    if back == "cohort":
        location = f"/train/cohorts/{cohort_id}/certificates?issued={certificate.public_id}"
        return RedirectResponse(location, status_code=303)
    return _done(_trainee_page(cohort_id, user_id), "issued", certificate.public_id)


@_action_route("revocation")
def revoke(
    request: Request,
    action: Action,
    reason: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """First a confirmation page (or the form again, with what is missing); then revoke."""
    errors = _not_in_force(action.certificate, "revoked")
    if reason not in REVOCATION_REASONS:
        errors["reason"] = "Choose the reason for revoking."
    if not note.strip():
        errors["note"] = "Write a note for the audit log: what happened, and who decided."
    if errors or not action.confirmed:
        return _action_page(
            request,
            "train_certificate_revoke.html",
            action,
            errors=errors,
            values={"reason": reason, "note": note},
            reasons=REASON_WORDS,
        )
    public_id = action.certificate.public_id
    issuance.revoke_certificate(
        action.db, public_id, reason=reason, actor=action.actor, note=note.strip()
    )
    return _done(action.trainee_page, "revoked", public_id)


@dataclass(frozen=True)
class RecordedHours:
    """The continuing-education hours a trainee has records of (ethics hours are part of them)."""

    continuing_education: float
    ethics: float


def _hours(text: str) -> float | None:
    """Hours as a trainer types them ("4", "2.5", "2,5"); None if that is not a sensible number."""
    try:
        hours = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return hours if math.isfinite(hours) and 0 <= hours <= MAX_HOURS else None


def _recorded_hours(education_text: str, ethics_text: str) -> RecordedHours | dict[str, str]:
    """The typed hours, or what is wrong with them by field."""
    education, ethics = _hours(education_text), _hours(ethics_text)
    wrong = f"Enter the hours as a number from 0 to {MAX_HOURS:,}, like 4 or 2.5."
    errors = {}
    if education is None:
        errors["continuing_education_hours"] = wrong
    if ethics is None:
        errors["ethics_hours"] = wrong
    if education is None or ethics is None:
        return errors
    if ethics > education:
        return {
            "ethics_hours": "Ethics hours are part of the continuing-education hours, "
            "so they cannot be more."
        }
    return RecordedHours(education, ethics)


def _renewal_blockers(
    certificate: Certificate, rules: RenewalRules, today: date
) -> tuple[str, ...]:
    """Why this certificate cannot be renewed today, whatever the hours: it is not in force,
    never expires, or is not yet within the renewal window (that of the holder's notice)."""
    if certificate.status != "issued":
        return (
            f"{certificate.public_id} is {certificate.status}; only a certificate in force "
            "can be renewed.",
        )
    if certificate.expires_on is None:
        return ("This certificate does not expire, so it needs no renewal.",)
    if expiry_notice(certificate, rules, today) is None:
        opens = certificate.expires_on - timedelta(days=NOTICE_DAYS)
        return (f"Renewal opens {NOTICE_DAYS} days before expiry, on {opens:%-d %B %Y}.",)
    return ()


@_action_route("renewal")
def renew(
    request: Request,
    action: Action,
    continuing_education_hours: Annotated[str, Form(max_length=32)] = "",
    ethics_hours: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Check the hours the trainee recorded against the manifest's renewal rules (refused with
    every shortfall), confirm, then renew: a new version and ID, valid for another period."""
    certificate = action.certificate
    rules = renewal_rules(action.db, certificate)
    page = partial(
        _action_page,
        request,
        "train_certificate_renew.html",
        action,
        values={
            "continuing_education_hours": continuing_education_hours.strip(),
            "ethics_hours": ethics_hours.strip(),
        },
        needs=renewal_hours(rules),
    )
    hours = _recorded_hours(continuing_education_hours, ethics_hours)
    if isinstance(hours, dict):
        return page(errors=hours)
    unmet = _renewal_blockers(certificate, rules, utcnow().date()) + issuance.renewal_shortfall(
        rules, hours.continuing_education, hours.ethics
    )
    try:
        if unmet:
            raise NotEligible(unmet)
        if not action.confirmed:
            return page(errors={})
        renewed = issuance.renew_certificate(
            action.db,
            certificate.public_id,
            continuing_education_hours=hours.continuing_education,
            ethics_hours=hours.ethics,
            settings=action.settings,
            actor=action.actor,
        )
    except CertificateError as error:
        return _action_refused(request, action, error, RENEWAL_REFUSED)
    return _done(action.trainee_page, "renewed", renewed.public_id)


@_action_route("reissue")
def reissue(
    request: Request,
    action: Action,
    holder_name: Annotated[str, Form(max_length=2000)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Re-issue under a new printed name (after a name change): the form, a confirmation page,
    then a new version and ID in the same lineage; the old one says "replaced by"."""
    certificate = action.certificate
    errors = _not_in_force(certificate, "re-issued")
    name = holder_name.strip()
    if not name:
        errors["holder_name"] = "Write the new name as it should be printed."
    elif len(name) > MAX_NAME_LENGTH:
        errors["holder_name"] = (
            f"A printed name can have at most {MAX_NAME_LENGTH} characters; this one has "
            f"{len(name)}."
        )
    elif name == CertificateRecord.from_canonical_json(certificate.record_json).holder.name:
        errors["holder_name"] = "The certificate already carries this name."
    if not note.strip():
        errors["note"] = "Write a note for the audit log: why the name changed, and who asked."
    if errors or not action.confirmed:
        return _action_page(
            request,
            "train_certificate_reissue.html",
            action,
            errors=errors,
            values={"holder_name": name, "note": note.strip()},
        )
    try:
        reissued = issuance.reissue_certificate(
            action.db,
            certificate.public_id,
            settings=action.settings,
            actor=action.actor,
            holder_name=name,
            note=note.strip(),
        )
    except CertificateError as error:
        return _action_refused(request, action, error, REISSUE_REFUSED)
    return _done(action.trainee_page, "reissued", reissued.public_id)


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
