"""Recording decisions that must be traceable: ratings, overrides, certificates, publishing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.accounts import User
from app.store.audit import AuditEntry

ACTIONS = (
    "rating.recorded",
    "feedback.overridden",
    "feedback.confirmed",
    "certificate.issued",
    "certificate.reissued",
    "certificate.renewed",
    "certificate.revoked",
    "release.published",
    "user.role-changed",
    "harmful-rating.resolved",
)


def record(
    session: Session,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: str | int,
    details: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Add one entry to the audit log (in the caller's transaction, so it commits with the change)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to app.audit.ACTIONS")
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_label=f"{actor.display_name} <{actor.email}>" if actor else "system",
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=dict(details or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def recent(
    session: Session, *, limit: int = 200, action: str | None = None
) -> Sequence[AuditEntry]:
    """The newest entries first, optionally of one action."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    return session.scalars(query).all()
