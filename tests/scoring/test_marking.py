"""Scoring items and attempts: the rules of docs/assessments.md, table by table."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import (
    AnswerError,
    PlanError,
    draw_attempt,
    parse_answer,
    score_attempt,
    score_item,
)
from tests.scoring import factories as f


def scored(item_data: dict[str, Any], raw: dict[str, Any] | None) -> Any:
    item = f.assessment([item_data]).items[0]
    return score_item(item, parse_answer(item, raw), "active-listening")


@pytest.mark.parametrize(
    ("raw", "points", "phrase"),
    [
        ({"option": "b"}, 1.0, "Correct: b"),
        ({"option": "a"}, 0.0, "You chose a; the correct answer is b"),
        (None, 0.0, "Not answered. The correct answer is b"),
    ],
)
def test_single_choice(raw: Any, points: float, phrase: str) -> None:
    score = scored(f.single(correct="b"), raw)
    assert (score.points, score.max_points) == (points, 1.0)
    assert phrase in score.explanation
    assert score.correct_options == ("b",)
    assert score.answered is (raw is not None)


# Correct options a, c, d; wrong options b, e.  score = max(0, (right − wrong) / 3)
@pytest.mark.parametrize(
    ("chosen", "points"),
    [
        (["a", "c", "d"], 1.0),
        (["a", "c"], 2 / 3),
        (["a"], 1 / 3),
        (["a", "c", "d", "b"], 2 / 3),
        (["a", "c", "b"], 1 / 3),
        (["a", "b"], 0.0),
        (["b", "e"], 0.0),  # floored at 0, never negative
        (["a", "b", "c", "d", "e"], 1 / 3),  # ticking everything is not rewarded
        ([], 0.0),
    ],
)
def test_multiple_response_partial_credit(chosen: list[str], points: float) -> None:
    score = scored(f.multiple(correct=("a", "c", "d")), {"options": chosen})
    assert score.points == pytest.approx(points)
    assert score.max_points == 1.0
    assert score.correct_options == ("a", "c", "d")


def test_multiple_response_explains_the_arithmetic() -> None:
    score = scored(f.multiple(correct=("a", "c", "d")), {"options": ["a", "c", "b"]})
    assert "2 of the 3 correct options (a, c)" in score.explanation
    assert "1 that is not correct (b)" in score.explanation
    assert "max(0, (2 − 1) / 3) = 0.33" in score.explanation


def test_multiple_response_with_one_correct_option() -> None:
    assert scored(f.multiple(correct=("b",)), {"options": ["b"]}).points == 1.0
    assert scored(f.multiple(correct=("b",)), {"options": ["b", "a"]}).points == 0.0


@pytest.mark.parametrize(
    ("key", "raw", "points"),
    [
        (False, {"value": False}, 1.0),
        (False, {"value": True}, 0.0),
        (True, {"value": "true"}, 1.0),
        (True, None, 0.0),
    ],
)
def test_true_false(key: bool, raw: Any, points: float) -> None:
    score = scored(f.true_false(key=key), raw)
    assert score.points == points
    assert score.correct_options == (("true",) if key else ("false",))


# Expert key: a=4, b=3, c=2, d=1.
@pytest.mark.parametrize(
    ("mode", "raw", "points"),
    [
        ("pick-best", {"best": "a"}, 1.0),
        ("pick-best", {"best": "b"}, 2 / 3),
        ("pick-best", {"best": "c"}, 1 / 3),
        ("pick-best", {"best": "d"}, 0.0),
        ("pick-best", None, 0.0),
        ("pick-best", {"best": "a", "ratings": {"a": 1}}, 1.0),  # ratings ignored in this mode
        ("rate-each", {"ratings": {"a": 4, "b": 3, "c": 2, "d": 1}}, 1.0),
        ("rate-each", {"ratings": {"a": 1, "b": 2, "c": 3, "d": 4}}, 1 - (3 + 1 + 1 + 3) / 4 / 3),
        ("rate-each", {"ratings": {"a": 3, "b": 3, "c": 2, "d": 1}}, 1 - 1 / 4 / 3),
        ("rate-each", {"ratings": {"a": 1, "b": 4, "c": 4, "d": 4}}, 1 - (3 + 1 + 2 + 3) / 4 / 3),
        (
            "rate-each",
            {"ratings": {"a": 4, "b": 3}},
            1 - (0 + 0 + 3 + 3) / 4 / 3,
        ),  # unrated = 3 apart
        ("rate-each", {"best": "a"}, 0.0),
        ("both", {"best": "a", "ratings": {"a": 4, "b": 3, "c": 2, "d": 1}}, 1.0),
        ("both", {"best": "b", "ratings": {"a": 4, "b": 3, "c": 2, "d": 1}}, (2 / 3 + 1) / 2),
        ("both", {"best": "a", "ratings": {"a": 3, "b": 3, "c": 2, "d": 1}}, (1 + 11 / 12) / 2),
        ("both", {"best": "a"}, 0.5),
        ("both", {"ratings": {"a": 4, "b": 3, "c": 2, "d": 1}}, 0.5),
        ("both", None, 0.0),
    ],
)
def test_situational_judgement(mode: str, raw: Any, points: float) -> None:
    score = scored(f.situational(mode=mode), raw)
    assert score.points == pytest.approx(points)
    assert score.max_points == 1.0
    assert score.correct_options == ("a",)
    assert dict(score.expert_ratings) == {"a": 4, "b": 3, "c": 2, "d": 1}
    assert set(score.rationales) == {"a", "b", "c", "d"}


def test_sjt_choosing_a_harmful_option_says_so() -> None:
    score = scored(f.situational(mode="pick-best"), {"best": "d"})
    assert "potentially harmful" in score.explanation


def test_free_text_is_formative_with_listening_feedback() -> None:
    score = scored(f.free_text(), {"text": "It sounds like you're worn out. What keeps you going?"})
    assert (score.points, score.max_points) == (0.0, 0.0)
    assert score.fraction is None
    assert score.answered
    assert score.listening is not None
    assert {"reflection", "open-question"} <= score.listening.labels
    assert "not scored" in score.explanation
    assert score.model_answer and score.model_answer.startswith(f.SECRET)


def test_free_text_suggests_what_is_missing_and_more_words() -> None:
    score = scored(f.free_text(), {"text": "Cheer up."})
    assert "at least 5 words" in score.explanation
    assert "also try: reflection, open question" in score.explanation
    assert "minimising" in score.listening.labels


def test_free_text_unanswered() -> None:
    score = scored(f.free_text(), None)
    assert not score.answered and score.listening is None


def test_item_competency_overrides_the_default() -> None:
    score = scored(f.single(competency="ethical-boundaries"), {"option": "b"})
    assert score.competency == "ethical-boundaries"


# ---- attempts -----------------------------------------------------------------------------


def knowledge_check(pass_mark: float = 0.8) -> Any:
    return f.assessment(
        [
            f.single("s1", correct="a"),
            f.single("s2", correct="b", competency="ethical-boundaries"),
            f.multiple("m1", correct=("a", "c", "d")),
            f.true_false("t1", key=False),
            f.situational("j1", mode="pick-best"),
            f.free_text("x1"),
        ],
        pass_mark=pass_mark,
    )


def test_attempt_all_correct_passes() -> None:
    a = knowledge_check()
    plan = draw_attempt(a, 1)
    answers = {
        "s1": {"option": "a"},
        "s2": {"option": "b"},
        "m1": {"options": ["a", "c", "d"]},
        "t1": {"value": False},
        "j1": {"best": "a"},
        "x1": {"text": "It sounds really hard. What has helped before?"},
    }
    result = score_attempt(a, plan, answers)
    assert (result.points, result.max_points, result.fraction) == (5.0, 5.0, 1.0)
    assert result.passed and not result.formative
    assert dict(result.competencies) == {"active-listening": 1.0, "ethical-boundaries": 1.0}
    assert [s.item_id for s in result.items] == list(plan.item_ids)
    assert result.explanations[0] == "5 of 5 points (100%); the pass mark is 80%: passed."


@pytest.mark.parametrize(
    ("answers", "points", "passed"),
    [
        ({}, 0.0, False),
        (
            {
                "s1": {"option": "a"},
                "s2": {"option": "b"},
                "m1": {"options": ["a", "c", "d"]},
                "t1": {"value": False},
            },
            4.0,
            True,
        ),
        (
            {
                "s1": {"option": "a"},
                "s2": {"option": "b"},
                "m1": {"options": ["a", "c"]},
                "t1": {"value": False},
            },
            3 + 2 / 3,
            False,
        ),
        (
            {
                "s1": {"option": "a"},
                "s2": {"option": "b"},
                "m1": {"options": ["a", "c", "d"]},
                "j1": {"best": "b"},
            },
            3 + 2 / 3,
            False,
        ),
    ],
)
def test_attempt_pass_mark_is_a_fraction_of_the_maximum(
    answers: dict[str, Any], points: float, passed: bool
) -> None:
    result = score_attempt(knowledge_check(0.8), draw_attempt(knowledge_check(), 3), answers)
    assert result.points == pytest.approx(points)
    assert result.max_points == 5.0  # the free-text item never counts
    assert result.passed is passed


def test_exactly_the_pass_mark_passes() -> None:
    a = f.assessment([f.single(f"s{i}", correct="a") for i in range(10)], pass_mark=0.7)
    answers = {f"s{i}": {"option": "a" if i < 7 else "b"} for i in range(10)}
    assert score_attempt(a, draw_attempt(a, 1), answers).passed


def test_per_competency_fractions() -> None:
    result = score_attempt(
        knowledge_check(),
        draw_attempt(knowledge_check(), 1),
        {"s2": {"option": "b"}, "s1": {"option": "c"}},
    )
    assert result.competencies["ethical-boundaries"] == 1.0
    assert result.competencies["active-listening"] == 0.0


def test_only_drawn_items_count() -> None:
    a = f.assessment([f.single(f"s{i}", correct="a") for i in range(10)], draw=4)
    plan = draw_attempt(a, 8)
    result = score_attempt(a, plan, {i: {"option": "a"} for i in plan.item_ids})
    assert (result.points, result.max_points, result.passed) == (4.0, 4.0, True)


def test_answer_for_an_item_not_drawn_is_an_error() -> None:
    a = f.assessment([f.single(f"s{i}", correct="a") for i in range(10)], draw=4)
    plan = draw_attempt(a, 8)
    other = next(i.id for i in a.items if i.id not in plan.item_ids)
    with pytest.raises(AnswerError, match="not part of the attempt"):
        score_attempt(a, plan, {other: {"option": "a"}})


def test_invalid_answer_in_an_attempt_names_the_item() -> None:
    a = knowledge_check()
    with pytest.raises(AnswerError, match="item m1: option\\(s\\) chosen more than once: a"):
        score_attempt(a, draw_attempt(a, 1), {"m1": {"options": ["a", "a"]}})


def test_plan_for_another_assessment_is_refused() -> None:
    a = knowledge_check()
    other = f.assessment([f.single("s1")], assessment_id="other-check")
    with pytest.raises(PlanError, match="other-check"):
        score_attempt(a, draw_attempt(other, 1), {})


def test_free_text_exercise_is_formative() -> None:
    a = f.assessment([f.free_text("x1"), f.free_text("x2")], kind="free-text")
    plan = draw_attempt(a, 1)
    half = score_attempt(a, plan, {"x1": {"text": "It sounds like a hard week for you."}})
    assert half.formative and not half.passed and half.max_points == 0
    assert half.explanations[0].startswith(
        "This exercise is for practice and feedback only: 1 of 2"
    )
    full = score_attempt(
        a, plan, {"x1": {"text": "Sounds hard."}, "x2": {"text": "What happened?"}}
    )
    assert full.passed
