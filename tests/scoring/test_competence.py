"""Competency levels from evidence, and the explanation a trainee sees."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import (
    KnowledgeEvidence,
    ProgrammeAssessments,
    RolePlayEvidence,
    SJTEvidence,
    competency_levels,
    programme_assessments,
)
from app.scoring.definitions import parse_assessment
from app.scoring.rules import CompetencyRules

AL = "active-listening"
RULES = CompetencyRules()  # knowledge 0.8, SJT 0.7 / 0.85, role-play 3.0 / 3.5


def k(fraction: float, aid: str = "al-check", competency: str = AL) -> KnowledgeEvidence:
    return KnowledgeEvidence(aid, competency, fraction, fraction >= 0.8)


def s(fraction: float, aid: str = "al-sjt") -> SJTEvidence:
    return SJTEvidence(aid, AL, fraction)


def rp(*ratings: int, aid: str = "al-role-play", resolved: bool = False) -> RolePlayEvidence:
    return RolePlayEvidence(
        aid, {f"item-{i}": (AL, r) for i, r in enumerate(ratings)}, resolved_harmful=resolved
    )


@pytest.mark.parametrize(
    ("evidence", "level"),
    [
        ([], "not-yet"),
        ([k(0.5)], "not-yet"),
        ([k(0.5), k(0.9)], "competent"),  # best attempt counts
        ([k(0.9), k(0.5)], "competent"),
        ([k(0.9), s(0.6)], "developing"),
        ([k(0.9), s(0.6), s(0.75)], "competent"),
        ([k(0.9), s(0.9)], "proficient"),
        ([k(0.7), s(0.9)], "developing"),
        ([k(0.9), s(0.9), rp(3, 3, 3)], "competent"),
        ([k(0.9), s(0.9), rp(4, 4, 3)], "proficient"),
        ([k(0.9), s(0.9), rp(4, 4, 2)], "competent"),  # mean 3.33 < 3.5
        ([k(0.9), s(0.9), rp(2, 2, 3)], "developing"),
        ([k(0.9), s(0.9), rp(2, 3, 3), rp(3, 3, 4)], "competent"),  # latest rating counts
        ([k(0.9), s(0.9), rp(4, 4, 4), rp(3, 3, 2)], "developing"),
        ([k(0.9), s(0.9), rp(4, 4, 1)], "developing"),  # unresolved 1 caps at developing
        ([k(0.9), s(0.9), rp(4, 4, 1, resolved=True)], "developing"),  # latest still has a 1
        ([k(0.9), s(0.9), rp(4, 4, 1, resolved=True), rp(4, 4, 4)], "proficient"),
        ([k(0.9), s(0.9), rp(4, 4, 1), rp(4, 4, 4)], "developing"),  # earlier 1 unresolved
        ([k(0.9, competency="ethical-boundaries")], "not-yet"),  # another competency's evidence
    ],
)
def test_levels(evidence: list[Any], level: str) -> None:
    result = competency_levels([(AL, True)], RULES, evidence)[AL]
    assert result.level == level, result.explanation


def test_unresolved_harmful_is_flagged_and_explained() -> None:
    result = competency_levels([(AL, True)], RULES, [k(0.9), rp(4, 1, aid="rp")])[AL]
    assert result.harmful_unresolved
    assert any("rp/item-1" in line and "potentially harmful" in line for line in result.explanation)


def test_explanation_names_each_piece_of_evidence_and_the_rule() -> None:
    result = competency_levels([(AL, True)], RULES, [k(0.85), s(0.8), rp(3, 4)])[AL]
    text = "\n".join(result.explanation)
    assert "Knowledge check al-check: best 85%, meets the 80% needed." in text
    assert "Scenario questions al-sjt: best 80% (competent from 70%, proficient from 85%)." in text
    assert "Observed role-play al-role-play: latest mean rating 3.50 over 2 item(s)" in text
    assert result.explanation[-1].startswith("Competent:")
    assert result.evidence_used == ("al-check", "al-sjt", "al-role-play")


def test_programme_requires_every_assessment_for_competent() -> None:
    programme = ProgrammeAssessments(
        knowledge={AL: frozenset({"al-check", "al-check-2"})},
        role_play={AL: frozenset({"al-role-play"})},
    )
    partial = competency_levels([(AL, True)], RULES, [k(0.9), k(0.9, "al-check-2")], programme)[AL]
    assert partial.level == "developing"
    assert any("al-role-play: not rated yet" in line for line in partial.explanation)
    full = competency_levels(
        [(AL, True)], RULES, [k(0.9), k(0.9, "al-check-2"), rp(3, 3)], programme
    )[AL]
    assert full.level == "competent"


@pytest.mark.parametrize(
    ("override", "evidence", "level"),
    [
        ({"knowledge_pass": 0.9}, [k(0.85)], "not-yet"),
        ({"knowledge_pass": 0.7}, [k(0.75)], "competent"),
        ({"roleplay_competent": 3.5}, [k(0.9), rp(3, 3, 4)], "developing"),
        ({"roleplay_proficient": 3.0}, [k(0.9), rp(3, 3, 3)], "proficient"),
        ({"sjt_competent": 0.5, "sjt_proficient": 0.6}, [k(0.9), s(0.65)], "proficient"),
    ],
)
def test_overrides_per_competency(
    override: dict[str, float], evidence: list[Any], level: str
) -> None:
    rules = CompetencyRules(overrides={AL: override})
    assert competency_levels([(AL, True)], rules, evidence)[AL].level == level


def test_an_override_applies_only_to_its_competency() -> None:
    rules = CompetencyRules(overrides={AL: {"knowledge_pass": 0.9}})
    evidence = [k(0.85), k(0.85, "eb-check", competency="ethical-boundaries")]
    results = competency_levels([(AL, True), ("ethical-boundaries", True)], rules, evidence)
    assert results[AL].level == "not-yet"
    assert results["ethical-boundaries"].level == "competent"


def test_every_competency_gets_a_result() -> None:
    results = competency_levels(
        [(AL, True), ("ethical-boundaries", True), ("self-care", False)], RULES, [k(0.9)]
    )
    assert list(results) == [AL, "ethical-boundaries", "self-care"]
    assert results["self-care"].level == "not-yet" and not results["self-care"].core


def test_programme_assessments_from_definitions() -> None:
    check = parse_assessment(
        {
            "id": "al-check", "title": "t", "kind": "knowledge-check", "competencies": [AL],
            "items": [
                {"id": "q1", "type": "true-false", "statement": "s", "answer": True},
                {"id": "q2", "type": "true-false", "statement": "s", "answer": True, "competency": "ethical-boundaries"},
            ],
        }
    )  # fmt: skip
    role_play = parse_assessment(
        {
            "id": "rp", "title": "t", "kind": "role-play", "competencies": [AL],
            "script": {"persona": "p", "opening": "o"},
            "rubric": [{"id": "r1", "competency": AL, "title": "t", "levels": {1: "a", 2: "b", 3: "c", 4: "d"}}],
        }
    )  # fmt: skip
    programme = programme_assessments([check, role_play])
    assert programme.knowledge == {
        AL: frozenset({"al-check"}),
        "ethical-boundaries": frozenset({"al-check"}),
    }
    assert programme.role_play == {AL: frozenset({"rp"})}
    assert programme.sjt == {}
