"""Where a trainee stands beyond lessons: competencies and certificate status.

Until the scoring engine records evidence, every competency is "not yet assessed" and no
certificate is possible; these two functions are the single place the dashboard asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.compiler import Release
from app.store.learning import Enrolment

NOT_YET_ASSESSED = "Not yet assessed"
NOT_YET_ELIGIBLE = "Not yet eligible"


@dataclass(frozen=True)
class CompetencyStanding:
    id: str
    name: str
    core: bool
    level: str


def competency_summary(
    session: Session, enrolment: Enrolment, release: Release
) -> list[CompetencyStanding]:
    """Each competency of the release with the trainee's current level."""
    return [
        CompetencyStanding(c.id, c.name, c.core, NOT_YET_ASSESSED)
        for c in release.programme.competencies
    ]


def certificate_status(session: Session, enrolment: Enrolment, release: Release) -> str:
    """The trainee's certificate status for this programme, in words."""
    return NOT_YET_ELIGIBLE
