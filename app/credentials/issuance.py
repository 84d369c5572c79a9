"""Issuing, revoking, renewing and re-issuing certificates.

Functions take a Session, change rows and flush; the caller commits. Issuing is split in three
so that batch issuance can render PDFs outside any write transaction (and on every core):
`plan_issue` (reads) → `render_plan` (pure) → `record_issue` (writes).
"""

from __future__ import annotations

import base64
import calendar
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog import load_release
from app.compiler import Release
from app.config import Settings
from app.credentials.ids import new_certificate_id
from app.credentials.keys import KeyRing
from app.credentials.openbadges import STATUS_LIST_LENGTH
from app.credentials.record import (
    CertificateRecord,
    CompetencyResult,
    Holder,
    Issuer,
    Programme,
    ReleaseRef,
    Renewal,
)
from app.credentials.render import RenderedCertificate, render_certificate
from app.credentials.signing import SignedRecord, sign_record
from app.scoring import ProgrammeProgress, evaluate_eligibility
from app.scoring.rules import RenewalRules
from app.store.accounts import User
from app.store.audit import AuditEntry
from app.store.base import utcnow
from app.store.certificates import REVOCATION_REASONS, Certificate
from app.store.learning import Enrolment


class CertificateError(Exception):
    """A certificate action that cannot be done; the message says why and what to do."""


class NotEligible(CertificateError):
    """The trainee does not meet the programme's certification rules yet."""

    def __init__(self, unmet: tuple[str, ...]) -> None:
        super().__init__("Not eligible for a certificate yet: " + " ".join(unmet))
        self.unmet = unmet


class UnknownCertificate(CertificateError, LookupError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the audit log records it."""

    user_id: int | None
    label: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, f"{user.display_name} <{user.email}> ({user.role})")


SYSTEM = Actor(None, "system")


@dataclass(frozen=True)
class IssuePlan:
    """Everything needed to render and store one certificate version, decided up front."""

    enrolment_id: int | None
    user_id: int | None
    signed: SignedRecord
    template_dir: Path
    verify_url: str
    lineage_id: str


def verify_url(settings: Settings | str, public_id: str) -> str:
    """The certificate's verification page, on this deployment (its settings or base URL)."""
    base_url = settings if isinstance(settings, str) else settings.base_url
    return f"{base_url.rstrip('/')}/verify/{public_id}"


_key_rings: dict[Path, KeyRing] = {}


def key_ring(settings: Settings) -> KeyRing:
    """The issuer's key ring (one per key folder per process, so public keys are cached)."""
    folder = (settings.data_dir / "keys").resolve()
    if folder not in _key_rings:
        _key_rings[folder] = KeyRing(folder)
    return _key_rings[folder]


def template_folder(release: Release, data_dir: Path) -> Path:
    """The release's own certificate template, written once under data_dir (what was validated
    and hashed with the release is what renders)."""
    target = data_dir / "certificate-templates" / release.content_hash
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".staging-"))
    for name, encoded in release.certificate_files.items():
        path = (staging / name).resolve()
        if not path.is_relative_to(staging.resolve()):
            raise CertificateError(f"certificate template file {name!r} is outside its folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(encoded))
    try:
        os.rename(staging, target)
    except OSError:  # another process got there first: theirs is identical
        for path in sorted(staging.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        staging.rmdir()
    return target


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def audit(
    session: Session, actor: Actor, action: str, certificate: Certificate, **details: object
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor_label=actor.label,
            action=action,
            subject_type="certificate",
            subject_id=certificate.public_id,
            details=details,
        )
    )


def current_certificate(session: Session, enrolment_id: int) -> Certificate | None:
    """The enrolment's certificate version that is in force (issued), if any."""
    return session.scalars(
        select(Certificate).where(
            Certificate.enrolment_id == enrolment_id, Certificate.status == "issued"
        )
    ).one_or_none()


def certificate_by_id(session: Session, public_id: str) -> Certificate:
    certificate = session.scalars(
        select(Certificate).where(Certificate.public_id == public_id)
    ).one_or_none()
    if certificate is None:
        raise UnknownCertificate(f"There is no certificate {public_id}.")
    return certificate


def lineage(session: Session, lineage_id: str) -> list[Certificate]:
    """Every version of a certificate, oldest first."""
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.lineage_id == lineage_id)
            .order_by(Certificate.version)
        )
    )


def _record_for(
    *,
    release: Release,
    progress: ProgrammeProgress,
    holder_name: str,
    settings: Settings,
    issued_on: date,
    expires_on: date | None,
    public_id: str,
    version: int = 1,
    supersedes: str | None = None,
    renewal: Renewal | None = None,
) -> CertificateRecord:
    programme = release.programme
    levels = progress.levels
    return CertificateRecord(
        id=public_id,
        version=version,
        supersedes=supersedes,
        holder=Holder(name=holder_name.strip()),
        programme=Programme(
            id=programme.id,
            title=programme.title,
            certificate_title=programme.certification.title,
            statement=" ".join(programme.certification.statement.split()),
        ),
        release=ReleaseRef(version=release.version, content_hash=release.content_hash),
        competencies=tuple(
            CompetencyResult(id=c.id, name=c.name, level=levels[c.id].level)
            for c in programme.competencies
            if c.id in levels
        ),
        learning_hours=round(progress.hours, 1),
        issued_on=issued_on,
        expires_on=expires_on,
        issuer=Issuer(name=settings.site_name, url=settings.base_url.rstrip("/")),
        renewal=renewal,
    )


def plan_issue(
    session: Session,
    enrolment: Enrolment,
    progress: ProgrammeProgress,
    *,
    settings: Settings,
    keys: KeyRing,
    holder_name: str | None = None,
    today: date | None = None,
) -> IssuePlan | Certificate:
    """The existing certificate of this enrolment, or a signed plan for a new one.

    Raises `NotEligible` listing every unmet condition of the programme's rules.
    """
    existing = current_certificate(session, enrolment.id)
    if existing is not None:
        return existing
    release = load_release(session, enrolment.release_id)
    rules = release.programme.certification
    eligibility = evaluate_eligibility(rules, progress)
    if not eligibility.eligible:
        raise NotEligible(eligibility.unmet)
    if holder_name is None:
        user = session.get(User, enrolment.user_id)
        holder_name = user.display_name if user is not None else ""
    if not holder_name.strip():
        raise CertificateError("The holder's name as it should be printed is missing.")
    issued_on = today or utcnow().date()
    public_id = new_certificate_id()
    record = _record_for(
        release=release,
        progress=progress,
        holder_name=holder_name,
        settings=settings,
        issued_on=issued_on,
        expires_on=add_months(issued_on, rules.validity_months) if rules.validity_months else None,
        public_id=public_id,
    )
    return IssuePlan(
        enrolment_id=enrolment.id,
        user_id=enrolment.user_id,
        signed=sign_record(record, keys),
        template_dir=template_folder(release, settings.data_dir),
        verify_url=verify_url(settings, public_id),
        lineage_id=public_id,
    )


def render_plan(plan: IssuePlan) -> RenderedCertificate:
    """The plan's PDF (pure: safe to run in a worker process)."""
    return render_certificate(plan.template_dir, plan.signed.record, plan.verify_url)


def _status_entry(session: Session) -> tuple[int, int]:
    """A random free slot in the newest revocation list (a new list once half are taken)."""
    newest = session.scalar(select(func.max(Certificate.status_list))) or 1
    used = session.scalar(
        select(func.count()).select_from(Certificate).where(Certificate.status_list == newest)
    )
    if (used or 0) >= STATUS_LIST_LENGTH // 2:
        newest += 1
    return newest, secrets.randbelow(STATUS_LIST_LENGTH)


def record_issue(
    session: Session,
    plan: IssuePlan,
    rendered: RenderedCertificate,
    *,
    actor: Actor,
    action: str = "certificate.issued",
    note: str = "",
) -> Certificate:
    """Store a rendered plan. If another request issued for the enrolment first, return that.
    A `note` (why, from the person acting) goes into the audit entry."""
    record = plan.signed.record
    for _attempt in range(8):
        status_list, index = _status_entry(session)
        certificate = Certificate(
            public_id=record.id,
            lineage_id=plan.lineage_id,
            version=record.version,
            supersedes=record.supersedes,
            enrolment_id=plan.enrolment_id,
            user_id=plan.user_id,
            programme_id=record.programme.id,
            holder_name=record.holder.name,
            record_json=plan.signed.canonical.decode(),
            signature=plan.signed.signature,
            kid=plan.signed.kid,
            pdf=rendered.pdf,
            pdf_sha256=rendered.sha256,
            status="issued",
            status_list=status_list,
            status_list_index=index,
            expires_on=record.expires_on,
            continuing_education_hours=(
                record.renewal.continuing_education_hours if record.renewal else None
            ),
        )
        try:
            with session.begin_nested():
                session.add(certificate)
                session.flush()
        except IntegrityError:
            if plan.enrolment_id is not None:
                existing = current_certificate(session, plan.enrolment_id)
                if existing is not None:
                    return existing
            continue  # the random status-list slot was taken: draw another
        details = {"note": note[:500]} if note else {}
        audit(session, actor, action, certificate, version=record.version, **details)
        return certificate
    raise CertificateError("Could not find a free status-list slot; try again.")


def issue_certificate(
    session: Session,
    enrolment: Enrolment,
    progress: ProgrammeProgress,
    *,
    settings: Settings,
    actor: Actor,
    holder_name: str | None = None,
    today: date | None = None,
) -> Certificate:
    """Issue the enrolment's certificate (idempotent: a second call returns the first)."""
    plan = plan_issue(
        session,
        enrolment,
        progress,
        settings=settings,
        keys=key_ring(settings),
        holder_name=holder_name,
        today=today,
    )
    if isinstance(plan, Certificate):
        return plan
    return record_issue(session, plan, render_plan(plan), actor=actor)


def revoke_certificate(
    session: Session, public_id: str, *, reason: str, actor: Actor, note: str = ""
) -> Certificate:
    """Revoke a certificate now; verification and the status list show it at once."""
    if reason not in REVOCATION_REASONS:
        raise CertificateError(f"Choose a revocation reason from: {', '.join(REVOCATION_REASONS)}.")
    certificate = certificate_by_id(session, public_id)
    if certificate.status == "revoked":
        return certificate
    if certificate.status == "superseded":
        raise CertificateError(
            f"{public_id} has been replaced by {certificate.superseded_by}; revoke that one."
        )
    certificate.status = "revoked"
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason
    session.flush()
    audit(session, actor, "certificate.revoked", certificate, reason=reason, note=note[:500])
    return certificate


def _next_version(
    session: Session,
    old: Certificate,
    *,
    settings: Settings,
    actor: Actor,
    action: str,
    holder_name: str | None = None,
    progress: ProgrammeProgress | None = None,
    renewal: Renewal | None = None,
    expires_on: date | None = None,
    today: date | None = None,
    note: str = "",
) -> Certificate:
    if old.status != "issued":
        raise CertificateError(
            f"{old.public_id} is {old.status}; only a certificate in force can be "
            + ("renewed." if renewal else "re-issued.")
        )
    previous = CertificateRecord.from_canonical_json(old.record_json)
    issued_on = today or utcnow().date()
    public_id = new_certificate_id()
    if progress is not None:
        if old.enrolment_id is None:
            raise CertificateError("This certificate's enrolment no longer exists.")
        enrolment = session.get(Enrolment, old.enrolment_id)
        assert enrolment is not None
        release = load_release(session, enrolment.release_id)
        eligibility = evaluate_eligibility(release.programme.certification, progress)
        if not eligibility.eligible:
            raise NotEligible(eligibility.unmet)
        record = _record_for(
            release=release,
            progress=progress,
            holder_name=holder_name or previous.holder.name,
            settings=settings,
            issued_on=issued_on,
            expires_on=previous.expires_on,
            public_id=public_id,
        )
    else:
        record = previous.model_copy(
            update={"id": public_id, "issued_on": issued_on, "renewal": renewal or previous.renewal}
        )
        if holder_name is not None:
            record = record.model_copy(update={"holder": Holder(name=holder_name.strip())})
    record = record.model_copy(
        update={
            "version": old.version + 1,
            "supersedes": old.public_id,
            "expires_on": expires_on if expires_on is not None else record.expires_on,
        }
    )
    record = CertificateRecord.model_validate(record.model_dump())
    release_row = _release_for_record(session, record)
    plan = IssuePlan(
        enrolment_id=old.enrolment_id,
        user_id=old.user_id,
        signed=sign_record(record, key_ring(settings)),
        template_dir=template_folder(release_row, settings.data_dir),
        verify_url=verify_url(settings, public_id),
        lineage_id=old.lineage_id,
    )
    rendered = render_plan(plan)
    old.status = "superseded"
    old.superseded_by = public_id
    session.flush()
    new = record_issue(session, plan, rendered, actor=actor, action=action, note=note)
    audit(session, actor, "certificate.superseded", old, superseded_by=public_id)
    return new


def _release_for_record(session: Session, record: CertificateRecord) -> Release:
    from app.store.releases import ReleaseRecord

    release_id = session.scalar(
        select(ReleaseRecord.id).where(ReleaseRecord.content_hash == record.release.content_hash)
    )
    if release_id is None:
        raise CertificateError(f"Release {record.release.version} is no longer stored.")
    return load_release(session, release_id)


def reissue_certificate(
    session: Session,
    public_id: str,
    *,
    settings: Settings,
    actor: Actor,
    holder_name: str | None = None,
    progress: ProgrammeProgress | None = None,
    today: date | None = None,
    note: str = "",
) -> Certificate:
    """A new version after a name change or a retake: same lineage, the old one superseded.
    The `note` (why) is kept in the audit log."""
    old = certificate_by_id(session, public_id)
    if holder_name is None and progress is None:
        raise CertificateError("Give a new holder name or new results to re-issue.")
    return _next_version(
        session,
        old,
        settings=settings,
        actor=actor,
        action="certificate.reissued",
        holder_name=holder_name,
        progress=progress,
        today=today,
        note=note,
    )


def in_hours(amount: float) -> str:
    """An amount of hours as a sentence says it: "1 hour", "2.5 hours"."""
    return f"{amount:g} hour" if amount == 1 else f"{amount:g} hours"


def renewal_shortfall(
    needed: RenewalRules, continuing_education_hours: float, ethics_hours: float
) -> tuple[str, ...]:
    """Each renewal requirement the recorded hours do not meet, as a sentence (none: renewable)."""
    unmet = []
    if continuing_education_hours + 1e-9 < needed.continuing_education_hours:
        unmet.append(
            f"Record {in_hours(needed.continuing_education_hours)} of continuing education "
            f"({continuing_education_hours:g} given)."
        )
    if ethics_hours + 1e-9 < needed.ethics_hours:
        unmet.append(f"Record {in_hours(needed.ethics_hours)} of ethics ({ethics_hours:g} given).")
    return tuple(unmet)


def renew_certificate(
    session: Session,
    public_id: str,
    *,
    continuing_education_hours: float,
    ethics_hours: float,
    settings: Settings,
    actor: Actor,
    today: date | None = None,
) -> Certificate:
    """Renew per the manifest's renewal rules: a new version valid for another full period."""
    old = certificate_by_id(session, public_id)
    previous = CertificateRecord.from_canonical_json(old.record_json)
    release = _release_for_record(session, previous)
    rules = release.programme.certification
    unmet = renewal_shortfall(rules.renewal, continuing_education_hours, ethics_hours)
    if unmet:
        raise NotEligible(unmet)
    day = today or utcnow().date()
    start = max(day, previous.expires_on) if previous.expires_on else day
    expires_on = add_months(start, rules.validity_months) if rules.validity_months else None
    return _next_version(
        session,
        old,
        settings=settings,
        actor=actor,
        action="certificate.renewed",
        renewal=Renewal(
            continuing_education_hours=continuing_education_hours,
            ethics_hours=ethics_hours,
            previous_expiry=previous.expires_on,
        ),
        expires_on=expires_on,
        today=day,
    )


def revoked_indexes(session: Session, status_list: int) -> list[int]:
    """Indexes set in a revocation status list (revoked certificates only)."""
    return list(
        session.scalars(
            select(Certificate.status_list_index).where(
                Certificate.status_list == status_list, Certificate.status == "revoked"
            )
        )
    )
