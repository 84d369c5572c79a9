"""Enrolling: in a programme, or in a trainer's cohort by its join code; moving to a new release."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.accounts.sessions import SignedInAccount, account_for_token_query, token_params
from app.catalog import current_record, load_release
from app.compiler import Release
from app.store import ReleaseRecord
from app.store.accounts import User
from app.store.base import utcnow
from app.store.learning import Cohort, Enrolment
from app.store.prepared import Connectable, Prepared, raw_connection_of


class EnrolmentError(LookupError):
    """Enrolment could not be done, with a message the trainee can act on."""


def enrolment_for(session: Session, user_id: int, programme_id: str) -> Enrolment | None:
    return session.scalars(
        select(Enrolment).where(
            Enrolment.user_id == user_id, Enrolment.programme_id == programme_id
        )
    ).one_or_none()


@dataclass(frozen=True)
class EnrolledIn:
    """An enrolment as the hot paths need it: its id and the release it is pinned to."""

    id: int
    release: Release


_ENROLLED_IN = Prepared(
    select(Enrolment.id, Enrolment.release_id, ReleaseRecord.content_hash)
    .join(ReleaseRecord, ReleaseRecord.id == Enrolment.release_id)
    .where(Enrolment.user_id == bindparam("user"), Enrolment.programme_id == bindparam("programme"))
)


def enrolled_in(session: Connectable, user_id: int, programme_id: str) -> EnrolledIn | None:
    """The user's enrolment in a programme and its release, in one query (no ORM objects)."""
    found = _ENROLLED_IN.first(raw_connection_of(session), user=user_id, programme=programme_id)
    if found is None:
        return None
    return EnrolledIn(found[0], load_release(session, found[1], content_hash=found[2]))


# The hot paths' first statement: who is signed in, and their enrolment in the programme.
_SIGNED_IN_AND_ENROLLED = Prepared(
    account_for_token_query(Enrolment.id, Enrolment.release_id, ReleaseRecord.content_hash)
    .outerjoin(
        Enrolment,
        (Enrolment.user_id == User.id) & (Enrolment.programme_id == bindparam("programme")),
    )
    .outerjoin(ReleaseRecord, ReleaseRecord.id == Enrolment.release_id)
)


def signed_in_and_enrolled(
    session: Connectable, token: str, programme_id: str
) -> tuple[SignedInAccount, EnrolledIn | None] | None:
    """`account_for_token` and `enrolled_in` in one statement (one round trip, where the
    database is a server): the token's account, if its session is active, and its
    enrolment in the programme (None if not enrolled)."""
    params = token_params(token)
    if params is None:
        return None
    found = _SIGNED_IN_AND_ENROLLED.first(
        raw_connection_of(session), **params, programme=programme_id
    )
    if found is None:
        return None
    account = SignedInAccount(*found[:4])
    if found[4] is None:
        return account, None
    return account, EnrolledIn(found[4], load_release(session, found[5], content_hash=found[6]))


def enrolments_of(session: Session, user_id: int) -> list[Enrolment]:
    return list(
        session.scalars(
            select(Enrolment).where(Enrolment.user_id == user_id).order_by(Enrolment.id)
        )
    )


def enrol(
    session: Session, user: User, programme_id: str, *, cohort: Cohort | None = None
) -> Enrolment:
    """Enrol the user (once: enrolling again returns the enrolment they have), pinned to the
    programme's current release, or to the cohort's release when joining a cohort."""
    existing = enrolment_for(session, user.id, programme_id)
    if existing is not None:
        if cohort is not None and existing.cohort_id is None:
            existing.cohort_id = cohort.id
        return existing
    release_id = (
        cohort.release_id if cohort is not None else current_record(session, programme_id).id
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # A double-clicked "Enrol" from two tabs must not fail on the unique (user, programme).
    session.execute(
        insert(Enrolment)
        .values(
            user_id=user.id,
            programme_id=programme_id,
            release_id=release_id,
            cohort_id=cohort.id if cohort is not None else None,
            enrolled_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "programme_id"])
    )
    enrolment = enrolment_for(session, user.id, programme_id)
    assert enrolment is not None
    return enrolment


def join_cohort(session: Session, user: User, join_code: str) -> Enrolment:
    code = join_code.strip().upper()
    cohort = session.scalars(select(Cohort).where(Cohort.join_code == code)).one_or_none()
    if cohort is None:
        raise EnrolmentError(
            "There is no group with that join code. Check it with your trainer: it is the "
            "code they gave you, letters and numbers only."
        )
    return enrol(session, user, cohort.programme_id, cohort=cohort)


@dataclass(frozen=True)
class ReleaseChanges:
    """What changed between the release a trainee is on and a newer one."""

    old_version: str
    new_version: str
    modules_added: list[str]
    modules_removed: list[str]
    lessons_added: list[str]
    lessons_removed: list[str]

    @property
    def any(self) -> bool:
        return bool(
            self.modules_added or self.modules_removed or self.lessons_added or self.lessons_removed
        )


def _lesson_titles(release: Release) -> dict[tuple[str, str], str]:
    return {
        (module.id, lesson.id): f"{module.title}: {lesson.title}"
        for module in release.modules
        for lesson in module.lessons
    }


def release_changes(old: Release, new: Release) -> ReleaseChanges:
    old_modules = {m.id: m.title for m in old.modules}
    new_modules = {m.id: m.title for m in new.modules}
    old_lessons, new_lessons = _lesson_titles(old), _lesson_titles(new)
    return ReleaseChanges(
        old_version=old.version,
        new_version=new.version,
        modules_added=[t for k, t in new_modules.items() if k not in old_modules],
        modules_removed=[t for k, t in old_modules.items() if k not in new_modules],
        lessons_added=[
            t for k, t in new_lessons.items() if k not in old_lessons and k[0] in old_modules
        ],
        lessons_removed=[
            t for k, t in old_lessons.items() if k not in new_lessons and k[0] in new_modules
        ],
    )


def newer_release(session: Session, enrolment: Enrolment) -> tuple[int, ReleaseChanges] | None:
    """The programme's current release and what changed, if it is newer than the trainee's."""
    current = current_record(session, enrolment.programme_id)
    if current.id == enrolment.release_id:
        return None
    old = load_release(session, enrolment.release_id)
    new = load_release(session, current.id)
    return current.id, release_changes(old, new)


def move_to_current_release(session: Session, enrolment: Enrolment) -> None:
    """Move the trainee to the current release. Progress is kept by stable module and lesson
    ids, so every completed lesson that still exists counts on the new release."""
    enrolment.release_id = current_record(session, enrolment.programme_id).id
