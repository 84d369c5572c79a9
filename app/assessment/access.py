"""Who may assess whom: the one rule every trainer-side function applies.

An administrator may assess any trainee. A trainer may assess a trainee whose enrolment is in
a cohort that trainer runs; a trainee who joined no cohort (enrolled on their own) may be
assessed by any trainer. Everyone else (trainees, verifiers) may assess nobody.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from app.assessment.errors import NotAllowed
from app.store.accounts import User
from app.store.learning import Cohort, Enrolment


def may_assess(session: Session, user: User, enrolment: Enrolment) -> bool:
    """True if `user` may rate, moderate and follow up this enrolment's work."""
    if user.role == "admin":
        return True
    if user.role != "trainer":
        return False
    if enrolment.cohort_id is None:
        return True
    cohort = session.get(Cohort, enrolment.cohort_id)
    return cohort is not None and cohort.trainer_id == user.id


def check_may_assess(session: Session, user: User, enrolment: Enrolment) -> None:
    if not may_assess(session, user, enrolment):
        raise NotAllowed(
            "Only the trainer who runs this trainee's group (or an administrator) can do this."
        )


def assessable_enrolments(user: User) -> ColumnElement[bool]:
    """The same rule as `may_assess`, as a condition on `Enrolment` for queries (queues, lists)."""
    if user.role == "admin":
        return true()
    if user.role != "trainer":
        return false()
    runs = select(Cohort.id).where(Cohort.trainer_id == user.id)
    return or_(Enrolment.cohort_id.is_(None), Enrolment.cohort_id.in_(runs))
