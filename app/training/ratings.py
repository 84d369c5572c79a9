"""Lists over the assessment records for trainers: role-plays waiting for a rating, agreement
between raters by month, open follow-ups of harmful ratings, answers awaiting moderation,
and one trainee's evidence. Everything is limited to trainees the viewer may assess."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import assessment
from app.catalog import load_release
from app.scoring import AgreementError, weighted_kappa
from app.store.accounts import User
from app.store.assessment import (
    Attempt,
    FreeTextResponse,
    HarmfulFollowUp,
    RolePlayRating,
    RolePlaySession,
)
from app.store.learning import Enrolment


@dataclass(frozen=True)
class SessionLine:
    """One role-play session as a list shows it."""

    session: RolePlaySession
    trainee: User
    title: str
    raters: list[str]
    rated_by_viewer: bool

    @property
    def waiting_for(self) -> str:
        return "first rating" if not self.raters else "second rating"


def _visible(session: Session, viewer: User, enrolment_id: int, cache: dict[int, bool]) -> bool:
    if enrolment_id not in cache:
        enrolment = session.get(Enrolment, enrolment_id)
        cache[enrolment_id] = enrolment is not None and assessment.may_assess(
            session, viewer, enrolment
        )
    return cache[enrolment_id]


def _line(
    session: Session, rp: RolePlaySession, viewer: User, ratings: list[RolePlayRating]
) -> SessionLine:
    enrolment = session.get(Enrolment, rp.enrolment_id)
    assert enrolment is not None
    trainee = session.get(User, enrolment.user_id)
    assert trainee is not None
    release = load_release(session, rp.release_id)
    found = release.assessments.get(rp.assessment_id)
    names = []
    for rating in ratings:
        rater = session.get(User, rating.rater_id)
        names.append(rater.display_name if rater else f"Trainer {rating.rater_id}")
    return SessionLine(
        rp,
        trainee,
        found.title if found else rp.assessment_id,
        names,
        any(r.rater_id == viewer.id for r in ratings),
    )


def rating_queue(session: Session, viewer: User) -> list[SessionLine]:
    """Role-plays with no rating yet, or with one (waiting for a blind second rating)."""
    ratings: dict[int, list[RolePlayRating]] = defaultdict(list)
    for rating in session.scalars(select(RolePlayRating).order_by(RolePlayRating.id)):
        ratings[rating.session_id].append(rating)
    cache: dict[int, bool] = {}
    lines = []
    for rp in session.scalars(
        select(RolePlaySession).order_by(RolePlaySession.opened_at, RolePlaySession.id)
    ):
        if len(ratings[rp.id]) >= 2 or not _visible(session, viewer, rp.enrolment_id, cache):
            continue
        lines.append(_line(session, rp, viewer, ratings[rp.id]))
    return lines


@dataclass(frozen=True)
class MonthlyAgreement:
    """How one trainer's ratings compared with the other rater's, over a month's sessions."""

    rater_id: int
    rater: str
    month: str  # YYYY-MM
    sessions: int
    items: int
    mean_abs_difference: float
    kappa: float | None  # quadratic-weighted, over every paired item; None if undefined


def rater_agreement(session: Session, viewer: User) -> list[MonthlyAgreement]:
    """Per trainer and month: mean |difference| and weighted kappa against the other rater,
    over every rubric item of the sessions they double-rated. Administrators see every
    trainer; a trainer sees their own figures."""
    by_session: dict[int, list[RolePlayRating]] = defaultdict(list)
    for rating in session.scalars(select(RolePlayRating).order_by(RolePlayRating.id)):
        by_session[rating.session_id].append(rating)
    sessions = {rp.id: rp for rp in session.scalars(select(RolePlaySession))}
    pairs: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    counted: dict[tuple[int, str], set[int]] = defaultdict(set)
    for session_id, ratings in by_session.items():
        if len(ratings) < 2 or session_id not in sessions:
            continue
        month = _month(sessions[session_id].opened_at)
        for first, second in combinations(ratings, 2):
            a, b = first.levels(), second.levels()
            common = [item for item in a if item in b]
            for mine, theirs in ((first, second), (second, first)):
                key = (mine.rater_id, month)
                mine_levels, their_levels = mine.levels(), theirs.levels()
                pairs[key].extend((mine_levels[i], their_levels[i]) for i in common)
                counted[key].add(session_id)
    names = {
        u.id: u.display_name
        for u in session.scalars(select(User).where(User.id.in_({k[0] for k in pairs})))
    }
    result = []
    for (rater_id, month), values in sorted(
        pairs.items(), key=lambda kv: (kv[0][1], names.get(kv[0][0], ""))
    ):
        if viewer.role != "admin" and rater_id != viewer.id:
            continue
        if not values:
            continue
        try:
            kappa: float | None = weighted_kappa([v[0] for v in values], [v[1] for v in values])
        except (AgreementError, ZeroDivisionError):
            kappa = None
        result.append(
            MonthlyAgreement(
                rater_id,
                names.get(rater_id, f"Trainer {rater_id}"),
                month,
                len(counted[(rater_id, month)]),
                len(values),
                sum(abs(x - y) for x, y in values) / len(values),
                kappa,
            )
        )
    return result


def _month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


@dataclass(frozen=True)
class FollowUpLine:
    followup: HarmfulFollowUp
    line: SessionLine


def follow_ups(session: Session, viewer: User) -> list[FollowUpLine]:
    """Open follow-ups of level-1 (potentially harmful) ratings the viewer may act on."""
    cache: dict[int, bool] = {}
    found = []
    for followup in assessment.open_followups(session):
        rp = session.get(RolePlaySession, followup.session_id)
        if rp is None or not _visible(session, viewer, rp.enrolment_id, cache):
            continue
        found.append(
            FollowUpLine(
                followup, _line(session, rp, viewer, assessment.session_ratings(session, rp))
            )
        )
    return found


@dataclass(frozen=True)
class ModerationLine:
    response: FreeTextResponse
    trainee: User
    assessment_title: str


def moderation_queue(session: Session, viewer: User) -> list[ModerationLine]:
    """Free-text answers whose automatic feedback awaits a trainer's confirmation."""
    cache: dict[int, bool] = {}
    lines = []
    for response in assessment.responses_to_moderate(session):
        attempt = session.get(Attempt, response.attempt_id)
        if attempt is None or not _visible(session, viewer, attempt.enrolment_id, cache):
            continue
        enrolment = session.get(Enrolment, attempt.enrolment_id)
        assert enrolment is not None
        trainee = session.get(User, enrolment.user_id)
        assert trainee is not None
        release = load_release(session, attempt.release_id)
        found = release.assessments.get(attempt.assessment_id)
        lines.append(
            ModerationLine(response, trainee, found.title if found else attempt.assessment_id)
        )
    return lines


@dataclass(frozen=True)
class TraineeEvidence:
    attempts: list[Attempt]
    role_plays: list[tuple[SessionLine, list[RolePlayRating]]]
    free_text: list[FreeTextResponse]


def trainee_evidence(session: Session, enrolment: Enrolment, viewer: User) -> TraineeEvidence:
    """A trainee's attempts, role-plays (ratings as the blind rule lets the viewer see them)
    and free-text answers with their moderation."""
    attempts = list(
        session.scalars(
            select(Attempt)
            .where(Attempt.enrolment_id == enrolment.id, Attempt.submitted_at.is_not(None))
            .order_by(Attempt.submitted_at, Attempt.id)
        )
    )
    role_plays = []
    for rp in assessment.sessions_for(session, enrolment):
        ratings = assessment.session_ratings(session, rp)
        role_plays.append(
            (_line(session, rp, viewer, ratings), assessment.visible_ratings(session, rp, viewer))
        )
    free_text = (
        list(
            session.scalars(
                select(FreeTextResponse)
                .where(FreeTextResponse.attempt_id.in_([a.id for a in attempts]))
                .order_by(FreeTextResponse.id)
            )
        )
        if attempts
        else []
    )
    return TraineeEvidence(attempts, role_plays, free_text)
