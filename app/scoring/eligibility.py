"""Certification eligibility: the programme's certification rules applied to one trainee's progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

from app.scoring.competence import LEVEL_LABELS, CompetencyResult, level_at_least
from app.scoring.rules import CertificationRules


@dataclass(frozen=True)
class ProgrammeProgress:
    """What a trainee has done in one programme, as the certification rules need it.

    `modules_total` lists every module of the programme in order; `knowledge_results` maps each
    knowledge check taken to whether it was passed; `unresolved_harmful` describes each role-play
    rating of 1 that no trainer has resolved yet.
    """

    modules_total: Sequence[str]
    modules_completed: Set[str]
    hours: float
    knowledge_results: Mapping[str, bool]
    required_knowledge_checks: Sequence[str]
    levels: Mapping[str, CompetencyResult]
    core_competencies: Sequence[str]
    unresolved_harmful: Sequence[str] = ()
    competency_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    unmet: tuple[str, ...]
    met: tuple[str, ...]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _hours(h: float) -> str:
    return f"{h:g}"


def evaluate_eligibility(rules: CertificationRules, progress: ProgrammeProgress) -> Eligibility:
    """Eligible or not, with every met and unmet condition as a plain-language sentence."""
    met: list[str] = []
    unmet: list[str] = []

    if rules.require_all_modules:
        missing = [m for m in progress.modules_total if m not in progress.modules_completed]
        if missing:
            unmet.append(f"Complete {_plural(len(missing), 'more module')}: {', '.join(missing)}.")
        else:
            met.append(f"All {_plural(len(progress.modules_total), 'module')} completed.")

    if rules.min_hours > 0:
        if progress.hours + 1e-9 >= rules.min_hours:
            met.append(
                f"At least {_hours(rules.min_hours)} hours of training recorded "
                f"({_hours(round(progress.hours, 2))})."
            )
        else:
            to_go = round(rules.min_hours - progress.hours, 2)
            unmet.append(
                f"Record {_hours(to_go)} more hours of training: {_hours(round(progress.hours, 2))} "
                f"of the {_hours(rules.min_hours)} needed so far."
            )

    if rules.knowledge_checks_passed:
        not_passed = [
            f"{a} ({'not passed yet' if a in progress.knowledge_results else 'not taken yet'})"
            for a in progress.required_knowledge_checks
            if not progress.knowledge_results.get(a, False)
        ]
        if not_passed:
            unmet.append(
                f"Pass {_plural(len(not_passed), 'more knowledge check')}: {', '.join(not_passed)}."
            )
        else:
            met.append(
                f"All {_plural(len(progress.required_knowledge_checks), 'knowledge check')} passed."
            )

    minimum = rules.core_competency_min_level
    below = []
    for cid in progress.core_competencies:
        result = progress.levels.get(cid)
        level = result.level if result is not None else "not-yet"
        if not level_at_least(level, minimum):
            name = progress.competency_names.get(cid, cid)
            below.append(f"{name} (now {LEVEL_LABELS[level]})")
    if below:
        unmet.append(
            f"Reach at least {LEVEL_LABELS[minimum]} in "
            f"{_plural(len(below), 'more core competency', 'more core competencies')}: "
            f"{', '.join(below)}."
        )
    else:
        met.append(
            f"Every core competency ({len(progress.core_competencies)}) is at least "
            f"{LEVEL_LABELS[minimum]}."
        )

    if rules.no_unresolved_harmful_rating:
        if progress.unresolved_harmful:
            n = len(progress.unresolved_harmful)
            unmet.append(
                f"Talk through and resolve {_plural(n, 'role-play rating')} of 1 (potentially "
                f"harmful) with your trainer: {', '.join(progress.unresolved_harmful)}."
            )
        else:
            met.append("No unresolved role-play rating of 1 (potentially harmful).")

    return Eligibility(not unmet, tuple(unmet), tuple(met))
