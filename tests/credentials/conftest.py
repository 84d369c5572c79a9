"""Fixtures for certificate lifecycle tests: a trainee enrolled on the sample programme."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.catalog import current_record, release_of
from app.compiler import Release
from app.scoring import CompetencyResult, ProgrammeProgress
from app.store import Database
from app.store.accounts import User
from app.store.learning import Enrolment


@dataclass
class Trainee:
    user_id: int
    enrolment_id: int
    release: Release


def progress_for(
    release: Release, *, level: str = "competent", hours: float = 3.0
) -> ProgrammeProgress:
    programme = release.programme
    return ProgrammeProgress(
        modules_total=list(programme.modules),
        modules_completed=set(programme.modules),
        hours=hours,
        knowledge_results={},
        required_knowledge_checks=[],
        levels={
            c.id: CompetencyResult(competency=c.id, core=c.core, level=level, explanation=())  # type: ignore[arg-type]
            for c in programme.competencies
        },
        core_competencies=[c.id for c in programme.competencies if c.core],
        competency_names={c.id: c.name for c in programme.competencies},
    )


def make_trainee(
    session: Session, name: str = "Amara Okafor", email: str = "amara@example.org"
) -> Trainee:
    record = current_record(session, "sample-programme")
    user = User(email=email, display_name=name, role="trainee", password_hash="x")
    session.add(user)
    session.flush()
    enrolment = Enrolment(user_id=user.id, programme_id="sample-programme", release_id=record.id)
    session.add(enrolment)
    session.flush()
    return Trainee(user.id, enrolment.id, release_of(record))


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """One unit of work on the test server's database (committed at the end of the test)."""
    with db.unit_of_work() as session:
        yield session


@pytest.fixture
def trainee(session: Session) -> Trainee:
    return make_trainee(session)
