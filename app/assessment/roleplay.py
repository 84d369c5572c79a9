"""Observed role-plays: sessions, blind rubric ratings, agreement, and harmful-rating follow-ups.

Blind second rating: a trainer sees the other raters' ratings of a session only after
submitting their own (`visible_ratings`). Every rating and every resolution is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.assessment.access import assessable_enrolments, check_may_assess
from app.assessment.errors import InvalidRating, StaleEdit, UnknownAssessment
from app.audit import record
from app.catalog import load_release
from app.compiler import Release
from app.scoring import AgreementReport, rating_agreement
from app.scoring.definitions import RolePlayAssessment
from app.store.accounts import User
from app.store.assessment import HarmfulFollowUp, RolePlayRating, RolePlaySession
from app.store.base import utcnow
from app.store.learning import Enrolment

MAX_COMMENT_CHARS = 2000


def role_play_assessment(release: Release, assessment_id: str) -> RolePlayAssessment:
    found = release.assessments.get(assessment_id)
    if not isinstance(found, RolePlayAssessment):
        raise UnknownAssessment(f"This programme has no role-play “{assessment_id}”.")
    return found


def session_assessment(session: Session, rp: RolePlaySession) -> RolePlayAssessment:
    """The role-play (script and rubric) as it was in the release the session was opened on."""
    return role_play_assessment(load_release(session, rp.release_id), rp.assessment_id)


def open_session(
    session: Session, enrolment: Enrolment, assessment_id: str, trainer: User, note: str = ""
) -> RolePlaySession:
    """Open a role-play session for a trainee, to be rated by one or more trainers."""
    check_may_assess(session, trainer, enrolment)
    role_play_assessment(load_release(session, enrolment.release_id), assessment_id)
    rp = RolePlaySession(
        enrolment_id=enrolment.id,
        release_id=enrolment.release_id,
        assessment_id=assessment_id,
        opened_by=trainer.id,
        opened_at=utcnow(),
        note=note.strip()[:MAX_COMMENT_CHARS],
    )
    session.add(rp)
    session.flush()
    return rp


def sessions_for(session: Session, enrolment: Enrolment) -> list[RolePlaySession]:
    """The enrolment's role-play sessions, oldest first."""
    return list(
        session.scalars(
            select(RolePlaySession)
            .where(RolePlaySession.enrolment_id == enrolment.id)
            .order_by(RolePlaySession.opened_at, RolePlaySession.id)
        )
    )


def session_ratings(session: Session, rp: RolePlaySession) -> list[RolePlayRating]:
    """Every rating of the session, oldest first (unrestricted: for evidence and reports)."""
    return list(
        session.scalars(
            select(RolePlayRating)
            .where(RolePlayRating.session_id == rp.id)
            .order_by(RolePlayRating.submitted_at, RolePlayRating.id)
        )
    )


def rating_by(session: Session, rp: RolePlaySession, rater: User) -> RolePlayRating | None:
    return session.scalars(
        select(RolePlayRating).where(
            RolePlayRating.session_id == rp.id, RolePlayRating.rater_id == rater.id
        )
    ).one_or_none()


def visible_ratings(session: Session, rp: RolePlaySession, viewer: User) -> list[RolePlayRating]:
    """The ratings `viewer` may see: all of them once they have rated; before that, none."""
    if rating_by(session, rp, viewer) is None:
        return []
    return session_ratings(session, rp)


def _clean_items(
    assessment: RolePlayAssessment, items: Mapping[str, tuple[int | str | None, str]]
) -> dict[str, dict[str, object]]:
    errors: dict[str, str] = {}
    clean: dict[str, dict[str, object]] = {}
    for rubric in assessment.rubric:
        level_raw, comment = items.get(rubric.id, (None, ""))
        comment = (comment or "").strip()
        level: int | None = None
        if isinstance(level_raw, int) and not isinstance(level_raw, bool):
            level = level_raw
        elif isinstance(level_raw, str) and level_raw.strip().isdigit():
            level = int(level_raw.strip())
        if level is None:
            errors[rubric.id] = f"choose a level from 1 to 4 for “{rubric.title}”"
        elif not 1 <= level <= 4:
            errors[rubric.id] = f"{level} is not a level; levels go from 1 to 4"
        elif level == 1 and not comment:
            errors[rubric.id] = (
                "a rating of 1 (potentially harmful) needs a comment saying what happened"
            )
        elif len(comment) > MAX_COMMENT_CHARS:
            errors[rubric.id] = (
                f"the comment is {len(comment)} characters; at most {MAX_COMMENT_CHARS}"
            )
        else:
            clean[rubric.id] = {"level": level, "comment": comment}
    unknown = sorted(set(items) - {r.id for r in assessment.rubric})
    for item in unknown:
        errors[item] = "this role-play's rubric has no such item"
    if errors:
        raise InvalidRating(errors)
    return clean


def submit_rating(
    session: Session,
    rp: RolePlaySession,
    rater: User,
    items: Mapping[str, tuple[int | str | None, str]],
    *,
    expected_version: int | None = None,
) -> RolePlayRating:
    """Record (or edit) `rater`'s rating: rubric item → (level 1–4, comment).

    An edit must name the version it was made from; if the rating changed since, StaleEdit.
    Each new level 1 opens a follow-up; a 1 changed to a higher level closes its open one.
    """
    enrolment = session.get(Enrolment, rp.enrolment_id)
    assert enrolment is not None
    check_may_assess(session, rater, enrolment)
    clean = _clean_items(session_assessment(session, rp), items)
    now = utcnow()
    rating = rating_by(session, rp, rater)
    if rating is None:
        rating = RolePlayRating(
            session_id=rp.id, rater_id=rater.id, items=clean, submitted_at=now, updated_at=now
        )
        session.add(rating)
        action = "recorded"
    else:
        if expected_version is None or expected_version != rating.version:
            raise StaleEdit(
                "This rating was changed (perhaps in another tab) since you opened it. "
                "Reload the page to see the current rating, then make your change again."
            )
        rating.items = clean
        rating.updated_at = now
        action = "edited"
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(
            "This rating was changed by another request at the same moment. Reload and try again."
        ) from None
    _sync_followups(session, rp, rating, rater)
    record(
        session,
        rater,
        "rating.recorded",
        "roleplay_rating",
        rating.id,
        {
            "session_id": rp.id,
            "enrolment_id": rp.enrolment_id,
            "assessment_id": rp.assessment_id,
            "change": action,
            "version": rating.version,
            "levels": rating.levels(),
        },
    )
    return rating


def _sync_followups(
    session: Session, rp: RolePlaySession, rating: RolePlayRating, rater: User
) -> None:
    existing = {
        f.item_id: f
        for f in session.scalars(
            select(HarmfulFollowUp).where(HarmfulFollowUp.rating_id == rating.id)
        )
    }
    for item_id, level in rating.levels().items():
        followup = existing.get(item_id)
        if level == 1 and followup is None:
            session.add(HarmfulFollowUp(session_id=rp.id, rating_id=rating.id, item_id=item_id))
        elif level == 1 and followup is not None and followup.resolved:
            # Rated 1 again after being resolved: it needs following up again.
            followup.resolved_at, followup.resolved_by = None, None
            followup.resolution_note = ""
        elif level > 1 and followup is not None and not followup.resolved:
            followup.resolved_at, followup.resolved_by = utcnow(), rater.id
            followup.resolution_note = f"The rater changed this rating to {level}."
    session.flush()


def followups_for(session: Session, rp: RolePlaySession) -> list[HarmfulFollowUp]:
    return list(
        session.scalars(
            select(HarmfulFollowUp)
            .where(HarmfulFollowUp.session_id == rp.id)
            .order_by(HarmfulFollowUp.id)
        )
    )


def open_followups(
    session: Session, trainer: User | None = None, *, limit: int = 200
) -> list[HarmfulFollowUp]:
    """Unresolved level-1 ratings of trainees `trainer` may assess, oldest first (a queue)."""
    return list(
        session.scalars(
            select(HarmfulFollowUp)
            .join(RolePlaySession, RolePlaySession.id == HarmfulFollowUp.session_id)
            .join(Enrolment, Enrolment.id == RolePlaySession.enrolment_id)
            .where(
                HarmfulFollowUp.resolved_at.is_(None),
                assessable_enrolments(trainer) if trainer else true(),
            )
            .order_by(HarmfulFollowUp.id)
            .limit(limit)
        )
    )


def resolve_followup(
    session: Session, followup: HarmfulFollowUp, trainer: User, note: str
) -> HarmfulFollowUp:
    """Mark a harmful rating as followed up with the trainee, saying how (audited)."""
    rp = session.get(RolePlaySession, followup.session_id)
    assert rp is not None
    enrolment = session.get(Enrolment, rp.enrolment_id)
    assert enrolment is not None
    check_may_assess(session, trainer, enrolment)
    note = note.strip()
    if not note:
        raise InvalidRating({"note": "say how this was followed up with the trainee"})
    if len(note) > MAX_COMMENT_CHARS:
        raise InvalidRating(
            {"note": f"the note is {len(note)} characters; at most {MAX_COMMENT_CHARS}"}
        )
    followup.resolved_at = utcnow()
    followup.resolved_by = trainer.id
    followup.resolution_note = note
    session.flush()
    record(
        session,
        trainer,
        "harmful-rating.resolved",
        "harmful_followup",
        followup.id,
        {"session_id": rp.id, "item_id": followup.item_id, "note": note},
    )
    return followup


@dataclass(frozen=True)
class SessionAgreement:
    """Agreement between the raters of one session; `names` maps report rater keys to names."""

    report: AgreementReport
    names: Mapping[str, str]


def session_agreement(session: Session, rp: RolePlaySession) -> SessionAgreement | None:
    """Per-item and overall agreement (weighted kappa for two raters, ICC for more); None if
    fewer than two trainers have rated."""
    ratings = session_ratings(session, rp)
    if len(ratings) < 2:
        return None
    names = {}
    for rating in ratings:
        user = session.get(User, rating.rater_id)
        names[str(rating.rater_id)] = user.display_name if user else f"Trainer {rating.rater_id}"
    report = rating_agreement({str(r.rater_id): r.levels() for r in ratings})
    return SessionAgreement(report, names)
