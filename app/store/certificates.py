"""Certificates: every issued version (signed record, PDF and its hash, status), verifier API
keys, and the shared counters that rate-limit anonymous verification. (Audit: app/store/audit.py.)"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

CERTIFICATE_STATUSES = ("issued", "revoked", "superseded")
REVOCATION_REASONS = (
    "issued-in-error",
    "misconduct",
    "assessment-invalidated",
    "holder-request",
    "other",
)


class Certificate(Base):
    """One version of a certificate. Re-issues and renewals add a version to the lineage and
    mark the previous one superseded; only one version per enrolment is ever `issued`."""

    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'revoked', 'superseded')", name="status"),
        UniqueConstraint("status_list", "status_list_index", name="uq_certificates_status_entry"),
        Index(
            "uq_certificates_current_per_enrolment",
            "enrolment_id",
            unique=True,
            sqlite_where=text("status = 'issued'"),
            postgresql_where=text("status = 'issued'"),
        ),
        Index("ix_certificates_pdf_sha256", "pdf_sha256"),
        Index("ix_certificates_lineage", "lineage_id", "version"),
        Index("ix_certificates_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    lineage_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes: Mapped[str | None] = mapped_column(String(40), default=None)
    superseded_by: Mapped[str | None] = mapped_column(String(40), default=None)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="SET NULL"), default=None
    )
    # A deleted account keeps its certificates verifiable: the link goes, the record stays.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    programme_id: Mapped[str] = mapped_column(String(64))
    holder_name: Mapped[str] = mapped_column(String(200))
    record_json: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    kid: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="issued")
    status_list: Mapped[int] = mapped_column(Integer, default=1)
    status_list_index: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_on: Mapped[date | None] = mapped_column(Date, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revocation_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    continuing_education_hours: Mapped[float | None] = mapped_column(Float, default=None)


class VerifierApiKey(Base):
    """A certifying body's key for bulk verification. Only a SHA-256 of the key is stored."""

    __tablename__ = "verifier_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class VerificationCounter(Base):
    """Requests counted in the current window for one client bucket, shared by all processes."""

    __tablename__ = "verification_counters"

    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class CertificateReminder(Base):
    """An expiry reminder claimed for one certificate version at one threshold (days before
    expiry). The unique pair is what keeps a reminder from ever being sent twice."""

    __tablename__ = "certificate_reminders"
    __table_args__ = (UniqueConstraint("certificate_id", "threshold_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"))
    threshold_days: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
