"""Expiry: what a holder is told before and after their certificate expires, and the reminder
emails sent ahead of it (one per certificate version and threshold, never twice)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog import load_release
from app.config import Settings
from app.credentials.issuance import in_hours, verify_url
from app.credentials.record import CertificateRecord
from app.mail import MailError, smtp_send
from app.scoring.rules import RenewalRules
from app.store import Database, ReleaseRecord
from app.store.accounts import User
from app.store.base import utcnow
from app.store.certificates import Certificate, CertificateReminder

log = logging.getLogger("peerpath.credentials")

NOTICE_DAYS = 90
REMINDER_THRESHOLDS = (90, 30)


@dataclass(frozen=True)
class ExpiryNotice:
    """What the holder should know about expiry: when, and what renewal needs."""

    expires_on: date
    days_left: int  # negative once expired
    renewal: str

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def renewal_hours(rules: RenewalRules) -> str:
    """The hours renewal needs, as a phrase ("" when it needs none)."""
    hours, ethics = rules.continuing_education_hours, rules.ethics_hours
    if hours and ethics:
        return f"{in_hours(hours)} of continuing education, including {in_hours(ethics)} of ethics"
    if hours:
        return f"{in_hours(hours)} of continuing education"
    if ethics:
        return f"{in_hours(ethics)} of ethics"
    return ""


def renewal_needs(rules: RenewalRules) -> str:
    """What renewing needs, in one sentence a holder can act on."""
    needed = renewal_hours(rules)
    if not needed:
        return "To renew it, ask your trainer: renewal needs no further hours."
    return (
        f"Renewal needs {needed}. Send your records of them to your trainer, "
        "who renews the certificate."
    )


def renewal_rules(session: Session, certificate: Certificate) -> RenewalRules:
    """The renewal rules of the release this certificate was issued under."""
    record = CertificateRecord.from_canonical_json(certificate.record_json)
    release_id = session.scalar(
        select(ReleaseRecord.id).where(ReleaseRecord.content_hash == record.release.content_hash)
    )
    if release_id is None:
        return RenewalRules()
    return load_release(session, release_id).programme.certification.renewal


def expiry_notice(
    certificate: Certificate, rules: RenewalRules, today: date, notice_days: int = NOTICE_DAYS
) -> ExpiryNotice | None:
    """A notice from `notice_days` before expiry onwards (None before then, or if it never
    expires, or if it is no longer in force)."""
    if certificate.status != "issued" or certificate.expires_on is None:
        return None
    days_left = (certificate.expires_on - today).days
    if days_left > notice_days:
        return None
    return ExpiryNotice(certificate.expires_on, days_left, renewal_needs(rules))


def held_certificate(session: Session, enrolment_id: int) -> Certificate | None:
    """The enrolment's newest certificate version (in force, or revoked)."""
    return session.scalars(
        select(Certificate)
        .where(Certificate.enrolment_id == enrolment_id)
        .order_by(Certificate.id.desc())
        .limit(1)
    ).one_or_none()


# --- reminder emails -------------------------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    certificate_id: int
    public_id: str
    email: str
    holder_name: str
    title: str
    expires_on: date
    days_left: int
    threshold_days: int
    renewal: str


@dataclass
class ReminderReport:
    due: list[DueReminder] = field(default_factory=list)
    sent: list[DueReminder] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def due_reminders(
    session: Session, *, today: date, thresholds: Sequence[int] = REMINDER_THRESHOLDS
) -> list[DueReminder]:
    """Reminders to send today: for each certificate in force expiring within the largest
    threshold, the most urgent threshold it has reached, unless that one (or a more urgent
    one) was already sent. A certificate found late gets one email, not one per threshold."""
    if not thresholds:
        return []
    horizon = today + timedelta(days=max(thresholds))
    rows = session.execute(
        select(Certificate, User)
        .join(User, User.id == Certificate.user_id)
        .where(
            Certificate.status == "issued",
            Certificate.expires_on.is_not(None),
            Certificate.expires_on >= today,
            Certificate.expires_on <= horizon,
            User.deleted_at.is_(None),
        )
        .order_by(Certificate.expires_on, Certificate.id)
    ).all()
    ids = [certificate.id for certificate, _user in rows]
    sent: dict[int, set[int]] = {}
    for certificate_id, threshold in session.execute(
        select(CertificateReminder.certificate_id, CertificateReminder.threshold_days).where(
            CertificateReminder.certificate_id.in_(ids)
        )
    ):
        sent.setdefault(certificate_id, set()).add(threshold)
    due = []
    for certificate, user in rows:
        assert certificate.expires_on is not None
        days_left = (certificate.expires_on - today).days
        threshold = min(t for t in thresholds if days_left <= t)
        if any(t <= threshold for t in sent.get(certificate.id, ())):
            continue
        record = CertificateRecord.from_canonical_json(certificate.record_json)
        due.append(
            DueReminder(
                certificate_id=certificate.id,
                public_id=certificate.public_id,
                email=user.email,
                holder_name=record.holder.name,
                title=record.programme.certificate_title,
                expires_on=certificate.expires_on,
                days_left=days_left,
                threshold_days=threshold,
                renewal=renewal_needs(renewal_rules(session, certificate)),
            )
        )
    return due


def reminder_email(reminder: DueReminder, settings: Settings) -> EmailMessage:
    base = settings.base_url.rstrip("/")
    message = EmailMessage()
    message["Subject"] = (
        f"Your {reminder.title} expires on {reminder.expires_on:%-d %B %Y}"
        if reminder.days_left
        else f"Your {reminder.title} expires today"
    )
    message["From"] = settings.smtp_from
    message["To"] = reminder.email
    message.set_content(
        f"Dear {reminder.holder_name},\n\n"
        f"Your {reminder.title} ({reminder.public_id}) is valid until "
        f"{reminder.expires_on:%-d %B %Y}, {reminder.days_left} days from today.\n\n"
        f"{reminder.renewal}\n\n"
        f"Your certificate and its downloads: {base}/dashboard\n"
        f"Its public verification page: {verify_url(settings, reminder.public_id)}\n\n"
        f"{settings.site_name}\n"
    )
    return message


def send_email(settings: Settings, message: EmailMessage) -> None:
    """Mail it when SMTP is configured (raising MailError if that fails); otherwise write it
    to the server log for the administrator to pass on, as password resets do."""
    if not settings.smtp_host:
        log.warning(
            "no PEERPATH_SMTP_HOST is set, so this email was not sent; pass it on yourself.\n"
            "To: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )
        return
    smtp_send(settings, message)


def send_reminders(
    database: Database,
    settings: Settings,
    *,
    today: date | None = None,
    thresholds: Sequence[int] = REMINDER_THRESHOLDS,
    dry_run: bool = False,
) -> ReminderReport:
    """Send today's expiry reminders. Each is claimed (committed) before its email goes out and
    released again if sending fails, so two runs at once, or a rerun, never send it twice."""
    day = today or utcnow().date()
    with database.unit_of_work(write=False) as session:
        report = ReminderReport(due=due_reminders(session, today=day, thresholds=thresholds))
    if dry_run:
        return report
    for reminder in report.due:
        try:
            with database.unit_of_work() as session:
                session.add(
                    CertificateReminder(
                        certificate_id=reminder.certificate_id,
                        threshold_days=reminder.threshold_days,
                        expires_on=reminder.expires_on,
                    )
                )
        except IntegrityError:
            continue  # another run claimed it first
        try:
            send_email(settings, reminder_email(reminder, settings))
        except MailError as error:
            with database.unit_of_work() as session:
                session.execute(
                    delete(CertificateReminder).where(
                        CertificateReminder.certificate_id == reminder.certificate_id,
                        CertificateReminder.threshold_days == reminder.threshold_days,
                    )
                )
            report.failed[reminder.public_id] = str(error)
            continue
        report.sent.append(reminder)
    return report
