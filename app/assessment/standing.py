"""Evidence → competency levels → certification eligibility, for one enrolment.

Evidence collected (oldest first, as `competency_levels` expects):
- knowledge checks and scenario banks: every submitted attempt, with the fraction scored per
  competency (the scoring engine keeps the best attempt of each assessment);
- role-plays: every session with at least one rating. Per rubric item the value is the mean
  of the raters' levels (one rater: their level; two or more: the mean, e.g. 3 and 4 → 3.5).
  An item any rater rated 1 counts as 1 while that follow-up is unresolved, so a single
  harmful rating is never averaged away; once resolved, the mean counts. The engine keeps the
  latest session of each role-play.
- free-text exercises are formative and never evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog import load_release
from app.compiler import Release
from app.scoring import (
    CompetencyResult,
    Eligibility,
    Evidence,
    KnowledgeEvidence,
    ProgrammeProgress,
    RolePlayEvidence,
    SJTEvidence,
    competency_levels,
    evaluate_eligibility,
    programme_assessments,
)
from app.scoring.definitions import QuestionAssessment, RolePlayAssessment
from app.store.assessment import Attempt, HarmfulFollowUp, RolePlayRating, RolePlaySession
from app.store.learning import Enrolment


@dataclass(frozen=True)
class Standing:
    """Where a trainee stands in one programme: levels, eligibility and what they rest on."""

    release: Release
    levels: dict[str, CompetencyResult]
    eligibility: Eligibility
    hours: float
    progress: ProgrammeProgress
    evidence: tuple[Evidence, ...]
    unresolved_harmful: tuple[str, ...]

    def assessed(self, competency_id: str) -> bool:
        """True if any evidence bears on this competency (else it is "not yet assessed")."""
        result = self.levels.get(competency_id)
        return result is not None and bool(result.evidence_used)


def _attempt_evidence(session: Session, enrolment: Enrolment) -> list[Evidence]:
    evidence: list[Evidence] = []
    attempts = session.scalars(
        select(Attempt)
        .where(Attempt.enrolment_id == enrolment.id, Attempt.submitted_at.is_not(None))
        .order_by(Attempt.submitted_at, Attempt.id)
    )
    for attempt in attempts:
        for competency, fraction in attempt.competency_scores.items():
            if attempt.kind == "knowledge-check":
                evidence.append(
                    KnowledgeEvidence(
                        attempt.assessment_id, competency, fraction, bool(attempt.passed)
                    )
                )
            elif attempt.kind == "situational-judgement":
                evidence.append(SJTEvidence(attempt.assessment_id, competency, fraction))
    return evidence


def _role_play_evidence(session: Session, enrolment: Enrolment) -> tuple[list[Evidence], list[str]]:
    evidence: list[Evidence] = []
    unresolved: list[str] = []
    sessions = session.scalars(
        select(RolePlaySession)
        .where(RolePlaySession.enrolment_id == enrolment.id)
        .order_by(RolePlaySession.opened_at, RolePlaySession.id)
    )
    for rp in sessions:
        ratings = list(
            session.scalars(select(RolePlayRating).where(RolePlayRating.session_id == rp.id))
        )
        if not ratings:
            continue
        release = load_release(session, rp.release_id)
        assessment = release.assessments.get(rp.assessment_id)
        if not isinstance(assessment, RolePlayAssessment):
            continue
        open_items = {
            f.item_id
            for f in session.scalars(
                select(HarmfulFollowUp).where(
                    HarmfulFollowUp.session_id == rp.id, HarmfulFollowUp.resolved_at.is_(None)
                )
            )
        }
        values: dict[str, tuple[str, float]] = {}
        for rubric in assessment.rubric:
            levels = [r.levels()[rubric.id] for r in ratings if rubric.id in r.items]
            if not levels:
                continue
            value = 1.0 if rubric.id in open_items else sum(levels) / len(levels)
            values[rubric.id] = (rubric.competency, value)
            if rubric.id in open_items:
                unresolved.append(f"{assessment.title}: {rubric.title} (session {rp.id})")
        # The engine's ratings are typed as whole levels; a mean of raters is a float, which
        # its arithmetic (mean, minimum, comparison with 1) handles the same way.
        ratings_map = cast(dict[str, tuple[str, int]], values)
        evidence.append(
            RolePlayEvidence(rp.assessment_id, ratings_map, resolved_harmful=not open_items)
        )
    return evidence, unresolved


def collect_evidence(session: Session, enrolment: Enrolment) -> tuple[list[Evidence], list[str]]:
    """All evidence for the enrolment, oldest first, and its unresolved harmful ratings."""
    role_play, unresolved = _role_play_evidence(session, enrolment)
    return _attempt_evidence(session, enrolment) + role_play, unresolved


def _required_knowledge_checks(release: Release) -> list[str]:
    """Knowledge checks embedded in the programme's lessons, in reading order."""
    found: list[str] = []
    for module in release.modules:
        for lesson in module.lessons:
            for aid in lesson.assessment_ids:
                a = release.assessments.get(aid)
                is_check = isinstance(a, QuestionAssessment) and a.kind == "knowledge-check"
                if is_check and aid not in found:
                    found.append(aid)
    return found


def enrolment_standing(session: Session, enrolment: Enrolment) -> Standing:
    """Competency levels and certification eligibility for the enrolment, with explanations.

    `hours` is the estimated reading time of the lessons completed (as the dashboard shows).
    """
    from app.learning.progress import load_progress

    release = load_release(session, enrolment.release_id)
    programme = release.programme
    evidence, unresolved = collect_evidence(session, enrolment)
    levels = competency_levels(
        [(c.id, c.core) for c in programme.competencies],
        programme.competency_rules,
        evidence,
        programme_assessments(release.assessments.values()),
    )
    progress = load_progress(session, enrolment, release)
    hours = progress.completed_minutes / 60
    knowledge: dict[str, bool] = {}
    for e in evidence:
        if isinstance(e, KnowledgeEvidence):
            knowledge[e.assessment_id] = knowledge.get(e.assessment_id, False) or e.passed
    programme_progress = ProgrammeProgress(
        modules_total=list(programme.modules),
        modules_completed={m.module.id for m in progress.modules if m.status == "completed"},
        hours=hours,
        knowledge_results=knowledge,
        required_knowledge_checks=_required_knowledge_checks(release),
        levels=levels,
        core_competencies=[c.id for c in programme.competencies if c.core],
        unresolved_harmful=tuple(unresolved),
        competency_names={c.id: c.name for c in programme.competencies},
    )
    eligibility = evaluate_eligibility(programme.certification, programme_progress)
    return Standing(
        release=release,
        levels=levels,
        eligibility=eligibility,
        hours=hours,
        progress=programme_progress,
        evidence=tuple(evidence),
        unresolved_harmful=tuple(unresolved),
    )
