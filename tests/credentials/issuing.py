"""Issuing a trainee's certificate straight through the capability, for stories that start after
issuance (the trainer pages, reminders, the browser tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.catalog import load_release
from app.config import Settings
from app.credentials.issuance import SYSTEM, add_months, issue_certificate
from app.store import Database
from app.store.base import utcnow
from app.store.learning import Enrolment
from tests.credentials.conftest import progress_for

VALIDITY_MONTHS = 24  # the sample programme's


@dataclass(frozen=True)
class Issued:
    public_id: str
    expires_on: date


def issue_directly(
    db: Database, settings: Settings, user_id: int, *, expires_in: int | None = None
) -> Issued:
    """Issue the user's certificate today, or on the day that makes it expire `expires_in`
    days from now (the signed record says so)."""
    issued_on = None
    if expires_in is not None:
        issued_on = add_months(utcnow().date() + timedelta(days=expires_in), -VALIDITY_MONTHS)
    with db.unit_of_work() as session:
        enrolment = session.scalars(select(Enrolment).where(Enrolment.user_id == user_id)).one()
        certificate = issue_certificate(
            session,
            enrolment,
            progress_for(load_release(session, enrolment.release_id)),
            settings=settings,
            actor=SYSTEM,
            today=issued_on,
        )
        assert certificate.expires_on is not None
        return Issued(certificate.public_id, certificate.expires_on)
