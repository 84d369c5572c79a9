"""A trainee's progress in the shape the certification rules read (scoring's ProgrammeProgress).

Modules and hours come from recorded lesson progress; competency levels, knowledge-check
results and unresolved harmful ratings from the assessment evidence — the same standing the
trainee's dashboard and the trainer's cohort page show.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.assessment import enrolment_standing
from app.scoring import ProgrammeProgress
from app.store.learning import Enrolment


def progress_of(session: Session, enrolment: Enrolment) -> ProgrammeProgress:
    """What the enrolment has done so far, for `evaluate_eligibility`."""
    return enrolment_standing(session, enrolment).progress
