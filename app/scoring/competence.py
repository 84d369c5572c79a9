"""Competency levels from evidence, by the rules in the programme manifest (docs/assessments.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.scoring.definitions import QuestionAssessment, RolePlayAssessment
from app.scoring.rules import CompetencyLevelName, CompetencyRules

LEVELS: tuple[CompetencyLevelName, ...] = ("not-yet", "developing", "competent", "proficient")
LEVEL_LABELS = {
    "not-yet": "not yet",
    "developing": "developing",
    "competent": "competent",
    "proficient": "proficient",
}


def level_at_least(level: CompetencyLevelName, minimum: CompetencyLevelName) -> bool:
    return LEVELS.index(level) >= LEVELS.index(minimum)


@dataclass(frozen=True)
class KnowledgeEvidence:
    """One knowledge-check attempt: the fraction scored on this competency's items."""

    assessment_id: str
    competency: str
    fraction: float
    passed: bool


@dataclass(frozen=True)
class SJTEvidence:
    """One situational-judgement attempt: the fraction scored on this competency's items."""

    assessment_id: str
    competency: str
    fraction: float


@dataclass(frozen=True)
class RolePlayEvidence:
    """One rated role-play: rubric item → (competency, agreed rating 1–4)."""

    assessment_id: str
    ratings: Mapping[str, tuple[str, int]]
    resolved_harmful: bool = False


Evidence = KnowledgeEvidence | SJTEvidence | RolePlayEvidence


@dataclass(frozen=True)
class ProgrammeAssessments:
    """Which assessments of the programme evidence each competency (competency → ids)."""

    knowledge: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sjt: Mapping[str, frozenset[str]] = field(default_factory=dict)
    role_play: Mapping[str, frozenset[str]] = field(default_factory=dict)


def programme_assessments(
    assessments: Iterable[QuestionAssessment | RolePlayAssessment],
) -> ProgrammeAssessments:
    """Map each competency to the knowledge checks, SJT banks and role-plays that evidence it."""
    knowledge: dict[str, set[str]] = {}
    sjt: dict[str, set[str]] = {}
    role_play: dict[str, set[str]] = {}
    for a in assessments:
        if isinstance(a, RolePlayAssessment):
            for r in a.rubric:
                role_play.setdefault(r.competency, set()).add(a.id)
            continue
        target = {"knowledge-check": knowledge, "situational-judgement": sjt}.get(a.kind)
        if target is None:
            continue  # free-text exercises are formative
        for item in a.items:
            target.setdefault(item.competency or a.competencies[0], set()).add(a.id)
    return ProgrammeAssessments(
        {c: frozenset(v) for c, v in knowledge.items()},
        {c: frozenset(v) for c, v in sjt.items()},
        {c: frozenset(v) for c, v in role_play.items()},
    )


@dataclass(frozen=True)
class CompetencyResult:
    """A competency's level, with the evidence and rules behind it in plain words."""

    competency: str
    core: bool
    level: CompetencyLevelName
    explanation: tuple[str, ...]
    harmful_unresolved: bool = False
    evidence_used: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Thresholds:
    knowledge_pass: float
    sjt_competent: float
    sjt_proficient: float
    roleplay_competent: float
    roleplay_proficient: float


def _thresholds(rules: CompetencyRules, competency: str) -> _Thresholds:
    override = rules.overrides.get(competency)

    def pick(name: str) -> float:
        value = getattr(override, name, None) if override is not None else None
        return float(value if value is not None else getattr(rules, name))

    return _Thresholds(
        pick("knowledge_pass"),
        pick("sjt_competent"),
        pick("sjt_proficient"),
        pick("roleplay_competent"),
        pick("roleplay_proficient"),
    )


def _pct(x: float) -> str:
    return f"{x:.0%}"


def competency_levels(
    competencies: Sequence[tuple[str, bool]],
    rules: CompetencyRules,
    evidence: Sequence[Evidence],
    programme: ProgrammeAssessments | None = None,
) -> dict[str, CompetencyResult]:
    """Roll evidence (oldest first) up to a level per competency (id, core) with explanations.

    With `programme`, every assessment that evidences a competency is required for
    "competent"; without it, only the kinds of evidence the trainee already has are.
    """
    return {
        cid: _level(cid, core, rules, evidence, programme or ProgrammeAssessments())
        for cid, core in competencies
    }


def _level(
    cid: str,
    core: bool,
    rules: CompetencyRules,
    evidence: Sequence[Evidence],
    programme: ProgrammeAssessments,
) -> CompetencyResult:
    t = _thresholds(rules, cid)
    lines: list[str] = []
    used: list[str] = []
    competent: list[bool] = []
    proficient: list[bool] = []
    any_met = False

    # Knowledge: the best attempt of every knowledge check for this competency.
    best_knowledge: dict[str, float] = {}
    for e in evidence:
        if isinstance(e, KnowledgeEvidence) and e.competency == cid:
            best_knowledge[e.assessment_id] = max(
                best_knowledge.get(e.assessment_id, 0.0), e.fraction
            )
    for aid in sorted(set(best_knowledge) | programme.knowledge.get(cid, frozenset())):
        if aid not in best_knowledge:
            lines.append(f"Knowledge check {aid}: not taken yet (needed for competent).")
            competent.append(False)
            continue
        used.append(aid)
        ok = best_knowledge[aid] + 1e-9 >= t.knowledge_pass
        any_met |= ok
        competent.append(ok)
        lines.append(
            f"Knowledge check {aid}: best {_pct(best_knowledge[aid])}, "
            f"{'meets' if ok else 'below'} the {_pct(t.knowledge_pass)} needed."
        )

    # Situational judgement: the best attempt of each bank.
    best_sjt: dict[str, float] = {}
    for e in evidence:
        if isinstance(e, SJTEvidence) and e.competency == cid:
            best_sjt[e.assessment_id] = max(best_sjt.get(e.assessment_id, 0.0), e.fraction)
    for aid in sorted(set(best_sjt) | programme.sjt.get(cid, frozenset())):
        if aid not in best_sjt:
            lines.append(f"Scenario questions {aid}: not taken yet (needed for competent).")
            competent.append(False)
            proficient.append(False)
            continue
        used.append(aid)
        score = best_sjt[aid]
        ok = score + 1e-9 >= t.sjt_competent
        any_met |= ok
        competent.append(ok)
        proficient.append(score + 1e-9 >= t.sjt_proficient)
        lines.append(
            f"Scenario questions {aid}: best {_pct(score)} (competent from "
            f"{_pct(t.sjt_competent)}, proficient from {_pct(t.sjt_proficient)})."
        )

    # Role-play: the latest rating of each role-play for this competency's rubric items;
    # any unresolved 1 in any rating caps the level at developing.
    latest: dict[str, list[int]] = {}
    harmful: list[str] = []
    for e in evidence:
        if not isinstance(e, RolePlayEvidence):
            continue
        mine = {item: rating for item, (c, rating) in e.ratings.items() if c == cid}
        if not mine:
            continue
        latest[e.assessment_id] = list(mine.values())
        if not e.resolved_harmful:
            harmful += [f"{e.assessment_id}/{item}" for item, r in mine.items() if r == 1]
    for aid in sorted(set(latest) | programme.role_play.get(cid, frozenset())):
        if aid not in latest:
            lines.append(f"Observed role-play {aid}: not rated yet (needed for competent).")
            competent.append(False)
            proficient.append(False)
            continue
        used.append(aid)
        ratings = latest[aid]
        mean = sum(ratings) / len(ratings)
        no_one = min(ratings) > 1
        ok = mean + 1e-9 >= t.roleplay_competent and no_one
        any_met |= ok
        competent.append(ok)
        proficient.append(ok and mean + 1e-9 >= t.roleplay_proficient)
        lines.append(
            f"Observed role-play {aid}: latest mean rating {mean:.2f} over {len(ratings)} "
            f"item(s){'' if no_one else ', with an item rated 1'} (competent from "
            f"{t.roleplay_competent:g} with no item at 1, proficient from {t.roleplay_proficient:g})."
        )

    level: CompetencyLevelName
    if not used:
        level = "not-yet"
        lines.insert(0, "Not yet: no evidence for this competency so far.")
    elif all(competent) and any_met:
        if proficient and all(proficient):
            level = "proficient"
            lines.append(
                "Proficient: every requirement for competent is met, and the scenario and role-play results reach the proficient thresholds."
            )
        else:
            level = "competent"
            reason = (
                "proficient needs scenario questions or an observed role-play at the proficient thresholds"
                if not proficient
                else "not every scenario or role-play result reaches the proficient threshold yet"
            )
            lines.append(f"Competent: every requirement is met; {reason}.")
    elif any_met:
        level = "developing"
        lines.append(
            "Developing: some evidence meets its threshold, but not all that competent needs."
        )
    else:
        level = "not-yet"
        lines.append("Not yet: no evidence meets its threshold so far.")
    if harmful and level_at_least(level, "competent"):
        level = "developing"
    if harmful:
        lines.append(
            f"Follow-up needed: a role-play rating of 1 (potentially harmful) on {', '.join(harmful)} "
            "is not resolved; until a trainer resolves it the level is at most developing."
        )
    return CompetencyResult(cid, core, level, tuple(lines), bool(harmful), tuple(used))
