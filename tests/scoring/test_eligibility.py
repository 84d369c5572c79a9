"""Certification eligibility: every unmet condition spelled out."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import CompetencyResult, ProgrammeProgress, evaluate_eligibility
from app.scoring.rules import CertificationRules

MODULES = [
    "what-is-peer-support",
    "active-listening-basics",
    "ethics-and-boundaries",
    "crisis-and-safety",
]
CORE = ["active-listening", "ethical-boundaries"]
RULES = CertificationRules(title="Certificate in Peer Support Foundations", min_hours=40)


def level(cid: str, name: str) -> CompetencyResult:
    return CompetencyResult(cid, True, name, ())  # type: ignore[arg-type]


def progress(**changes: Any) -> ProgrammeProgress:
    base: dict[str, Any] = {
        "modules_total": MODULES,
        "modules_completed": set(MODULES),
        "hours": 41.5,
        "knowledge_results": {"al-check": True, "eb-check": True},
        "required_knowledge_checks": ["al-check", "eb-check"],
        "levels": {c: level(c, "competent") for c in CORE},
        "core_competencies": CORE,
        "unresolved_harmful": [],
        "competency_names": {"active-listening": "Active listening"},
    }
    return ProgrammeProgress(**{**base, **changes})


def test_everything_met_is_eligible() -> None:
    result = evaluate_eligibility(RULES, progress())
    assert result.eligible and not result.unmet
    assert result.met == (
        "All 4 modules completed.",
        "At least 40 hours of training recorded (41.5).",
        "All 2 knowledge checks passed.",
        "Every core competency (2) is at least competent.",
        "No unresolved role-play rating of 1 (potentially harmful).",
    )


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        (
            {"modules_completed": {"what-is-peer-support"}},
            "Complete 3 more modules: active-listening-basics, ethics-and-boundaries, crisis-and-safety.",
        ),
        (
            {"modules_completed": set(MODULES) - {"crisis-and-safety"}},
            "Complete 1 more module: crisis-and-safety.",
        ),
        ({"hours": 32.5}, "Record 7.5 more hours of training: 32.5 of the 40 needed so far."),
        (
            {"knowledge_results": {"al-check": False}},
            "Pass 2 more knowledge checks: al-check (not passed yet), eb-check (not taken yet).",
        ),
        (
            {"levels": {"active-listening": level("active-listening", "developing")}},
            "Reach at least competent in 2 more core competencies: "
            "Active listening (now developing), ethical-boundaries (now not yet).",
        ),
        (
            {"unresolved_harmful": ["ethics-role-play/confidentiality (rated 1 by trainer A)"]},
            "Talk through and resolve 1 role-play rating of 1 (potentially harmful) with your "
            "trainer: ethics-role-play/confidentiality (rated 1 by trainer A).",
        ),
    ],
)
def test_each_unmet_condition_is_a_sentence(changes: dict[str, Any], sentence: str) -> None:
    result = evaluate_eligibility(RULES, progress(**changes))
    assert not result.eligible
    assert result.unmet == (sentence,)
    assert len(result.met) == 4


def test_all_unmet_conditions_are_listed_at_once() -> None:
    result = evaluate_eligibility(
        RULES,
        progress(
            modules_completed=set(),
            hours=0,
            knowledge_results={},
            levels={},
            unresolved_harmful=["x"],
        ),
    )
    assert len(result.unmet) == 5 and not result.met


@pytest.mark.parametrize(
    ("rules", "changes", "eligible"),
    [
        (
            RULES.model_copy(update={"require_all_modules": False}),
            {"modules_completed": set()},
            True,
        ),
        (RULES.model_copy(update={"min_hours": 0}), {"hours": 0}, True),
        (
            RULES.model_copy(update={"knowledge_checks_passed": False}),
            {"knowledge_results": {}},
            True,
        ),
        (
            RULES.model_copy(update={"no_unresolved_harmful_rating": False}),
            {"unresolved_harmful": ["x"]},
            True,
        ),
        (
            RULES.model_copy(update={"core_competency_min_level": "developing"}),
            {"levels": {c: level(c, "developing") for c in CORE}},
            True,
        ),
        (
            RULES.model_copy(update={"core_competency_min_level": "proficient"}),
            {"levels": {c: level(c, "competent") for c in CORE}},
            False,
        ),
    ],
)
def test_rules_switch_conditions(
    rules: CertificationRules, changes: dict[str, Any], eligible: bool
) -> None:
    assert evaluate_eligibility(rules, progress(**changes)).eligible is eligible
