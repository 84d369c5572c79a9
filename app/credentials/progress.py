"""A trainee's progress in the shape the certification rules read (scoring's ProgrammeProgress).

Modules and hours come from recorded lesson progress. Competency levels and knowledge-check
results come from assessment evidence; until that capability exposes them per enrolment, no
competency counts as reached, so issuance refuses and lists what is unmet.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.catalog import load_release
from app.learning import load_progress
from app.scoring import ProgrammeProgress
from app.store.learning import Enrolment


def progress_of(session: Session, enrolment: Enrolment) -> ProgrammeProgress:
    """What the enrolment has done so far, for `evaluate_eligibility`."""
    release = load_release(session, enrolment.release_id)
    progress = load_progress(session, enrolment, release)
    programme = release.programme
    return ProgrammeProgress(
        modules_total=list(programme.modules),
        modules_completed={m.module.id for m in progress.modules if m.completed >= m.total},
        hours=progress.completed_minutes / 60,
        knowledge_results={},
        required_knowledge_checks=[],
        levels={},
        core_competencies=[c.id for c in programme.competencies if c.core],
        competency_names={c.id: c.name for c in programme.competencies},
    )
