"""Where a trainee stands beyond lessons: competencies and certificate status.

The single place the dashboard and the API ask. Levels and eligibility come from the evidence
recorded by app.assessment (`enrolment_standing`); a competency with no evidence yet reads
"Not yet assessed".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.assessment import enrolment_standing
from app.compiler import Release
from app.scoring.competence import LEVEL_LABELS
from app.store.learning import Enrolment

NOT_YET_ASSESSED = "Not yet assessed"
NOT_YET_ELIGIBLE = "Not yet eligible"
ELIGIBLE = "Eligible: your trainer can now issue your certificate"


@dataclass(frozen=True)
class CompetencyStanding:
    id: str
    name: str
    core: bool
    level: str
    explanation: tuple[str, ...] = field(default=())


def competency_summary(
    session: Session, enrolment: Enrolment, release: Release
) -> list[CompetencyStanding]:
    """Each competency of the release with the trainee's current level and why."""
    standing = enrolment_standing(session, enrolment)
    summary = []
    for c in release.programme.competencies:
        result = standing.levels.get(c.id)
        if result is None or not standing.assessed(c.id):
            summary.append(CompetencyStanding(c.id, c.name, c.core, NOT_YET_ASSESSED))
            continue
        level = LEVEL_LABELS[result.level]
        summary.append(
            CompetencyStanding(
                c.id, c.name, c.core, level[:1].upper() + level[1:], result.explanation
            )
        )
    return summary


def certificate_status(session: Session, enrolment: Enrolment, release: Release) -> str:
    """The trainee's certificate status for this programme, in words."""
    return (
        ELIGIBLE
        if enrolment_standing(session, enrolment).eligibility.eligible
        else NOT_YET_ELIGIBLE
    )


def certificate_requirements(session: Session, enrolment: Enrolment, release: Release) -> list[str]:
    """Every condition for the certificate not met yet, one sentence each (empty if eligible)."""
    return list(enrolment_standing(session, enrolment).eligibility.unmet)
