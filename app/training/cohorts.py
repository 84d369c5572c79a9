"""Cohorts: a trainer's group of trainees on one programme release, joined by code or roster."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import learning
from app.accounts import AccountError, create_user, find_user, make_reset_token, normalise_email
from app.accounts.users import email_problem
from app.catalog import current_record
from app.store.accounts import User
from app.store.learning import Cohort, Enrolment

# No 0/O, 1/I/L, U: easy to read aloud and type on a phone; 31^10 ≈ 8 × 10^14 codes.
JOIN_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
JOIN_CODE_LENGTH = 10

MAX_ROSTER_BYTES = 256 * 1024
MAX_ROSTER_ROWS = 200
_NAME_HEADERS = {"name", "display name", "display_name", "full name", "full_name"}
_EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address"}


class CohortError(ValueError):
    """A cohort request that cannot be done, with a message a trainer can act on."""


class CohortNotFound(LookupError):
    """No cohort with that id is visible to this user."""


def can_see_everything(user: User) -> bool:
    return user.role == "admin"


def new_join_code() -> str:
    """An unguessable, human-typeable join code (letters and digits, no look-alikes)."""
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def create_cohort(session: Session, trainer: User, name: str, programme_id: str) -> Cohort:
    """A new cohort on the programme's current release, run by `trainer`."""
    name = name.strip()
    if not name or len(name) > 200:
        raise CohortError("Give the cohort a name of up to 200 characters.")
    try:
        release = current_record(session, programme_id)
    except LookupError:
        raise CohortError(f"There is no published programme called “{programme_id}”.") from None
    for _ in range(5):
        code = new_join_code()
        if session.scalar(select(Cohort.id).where(Cohort.join_code == code)) is None:
            break
    cohort = Cohort(
        name=name,
        programme_id=programme_id,
        release_id=release.id,
        trainer_id=trainer.id,
        join_code=code,
    )
    session.add(cohort)
    session.flush()
    return cohort


def visible_cohorts(session: Session, user: User) -> list[Cohort]:
    """The cohorts this user may see: their own, or every cohort for an administrator."""
    query = select(Cohort).order_by(Cohort.created_at.desc(), Cohort.id.desc())
    if not can_see_everything(user):
        query = query.where(Cohort.trainer_id == user.id)
    return list(session.scalars(query))


def cohort_for(session: Session, user: User, cohort_id: int) -> Cohort:
    """The cohort, if this user may see it; otherwise CohortNotFound (never says it exists)."""
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or not (can_see_everything(user) or cohort.trainer_id == user.id):
        raise CohortNotFound(cohort_id)
    return cohort


@dataclass(frozen=True)
class Member:
    user: User
    enrolment: Enrolment


def members(session: Session, cohort: Cohort) -> list[Member]:
    """The cohort's trainees (active accounts), by name."""
    rows = session.execute(
        select(User, Enrolment)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.cohort_id == cohort.id, User.deleted_at.is_(None))
        .order_by(User.display_name, User.id)
    ).all()
    return [Member(user, enrolment) for user, enrolment in rows]


def member(session: Session, cohort: Cohort, user_id: int) -> Member:
    """One trainee of the cohort; CohortNotFound if they are not in it."""
    for found in members(session, cohort):
        if found.user.id == user_id:
            return found
    raise CohortNotFound(user_id)


# --- rosters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    email: str
    existing: User | None


@dataclass
class RosterCheck:
    """A roster read and checked: every row, and every problem (by CSV line)."""

    rows: list[RosterRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


@dataclass(frozen=True)
class Invited:
    user: User
    created: bool
    reset_token: str | None  # for new accounts: the link to choose a password


def check_roster(session: Session, cohort: Cohort, data: bytes) -> RosterCheck:
    """Read a CSV of names and emails and check every row, writing nothing."""
    result = RosterCheck()
    if len(data) > MAX_ROSTER_BYTES:
        result.errors.append(
            f"The file is {len(data) // 1024} KB; a roster can be at most "
            f"{MAX_ROSTER_BYTES // 1024} KB ({MAX_ROSTER_ROWS} people). Split it into smaller files."
        )
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append(
            "The file is not UTF-8 text. In your spreadsheet, choose “Save as → CSV UTF-8”."
        )
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        result.errors.append(f"Line 1: this is not a readable CSV file ({error}).")
        return result
    columns = [h.strip().lower() for h in header or []]
    name_at = next((i for i, h in enumerate(columns) if h in _NAME_HEADERS), None)
    email_at = next((i for i, h in enumerate(columns) if h in _EMAIL_HEADERS), None)
    if name_at is None or email_at is None:
        result.errors.append(
            "Line 1 must name the columns: put “name” and “email” in the first row."
        )
        return result
    seen: dict[str, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(result.rows) + len(result.errors) >= MAX_ROSTER_ROWS:
                result.errors.append(
                    f"Line {line}: a roster can have at most {MAX_ROSTER_ROWS} people; "
                    "split it into smaller files."
                )
                break
            name = values[name_at].strip() if name_at < len(values) else ""
            email = normalise_email(values[email_at]) if email_at < len(values) else ""
            problem = _row_problem(session, cohort, name, email, seen)
            if problem:
                result.errors.append(f"Line {line}: {problem}")
                continue
            seen[email] = line
            result.rows.append(RosterRow(line, name, email, find_user(session, email)))
    except csv.Error as error:
        result.errors.append(f"Line {reader.line_num}: this line cannot be read ({error}).")
    if not result.rows and not result.errors:
        result.errors.append("The file has a header row but nobody in it.")
    return result


def _row_problem(
    session: Session, cohort: Cohort, name: str, email: str, seen: dict[str, int]
) -> str | None:
    if not name or len(name) > 200:
        return "the name is missing or longer than 200 characters."
    if problem := email_problem(email):
        return f"“{email}”: {problem}"
    if email in seen:
        return f"{email} is also on line {seen[email]}; list each person once."
    existing = find_user(session, email)
    if existing is None:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            return f"{email} belonged to a deleted account and cannot be reused."
        return None
    if existing.role != "trainee":
        return f"{email} is a {existing.role} account, not a trainee."
    enrolment = learning.enrolment_for(session, existing.id, cohort.programme_id)
    if enrolment is not None and enrolment.cohort_id not in (None, cohort.id):
        return f"{email} is already in another cohort of this programme."
    return None


def invite_roster(
    session: Session, cohort: Cohort, roster: RosterCheck, secret_key: str
) -> list[Invited]:
    """Add everyone on a checked roster: all of them or (on any failure) none."""
    if not roster.ok:
        raise CohortError("Fix the problems in the file first; nobody was added.")
    invited: list[Invited] = []
    for row in roster.rows:
        user, created = row.existing, False
        if user is None:
            try:
                user = create_user(
                    session,
                    email=row.email,
                    display_name=row.name,
                    password=secrets.token_urlsafe(32),
                )
            except (AccountError, IntegrityError) as error:
                # The caller rolls back its unit of work: nobody from this file is kept.
                raise CohortError(
                    f"Line {row.line}: {row.email} could not be added ({error}); nobody was added."
                ) from error
            created = True
        learning.enrol(session, user, cohort.programme_id, cohort=cohort)
        token = make_reset_token(secret_key, user) if created else None
        invited.append(Invited(user, created, token))
    return invited
