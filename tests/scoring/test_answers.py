"""Parsing answers: what is accepted, what is unanswered, and the errors a trainee would see."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import (
    AnswerError,
    FreeTextAnswer,
    MultipleResponseAnswer,
    SingleChoiceAnswer,
    SituationalJudgementAnswer,
    TrueFalseAnswer,
    parse_answer,
)
from tests.scoring import factories as f


def item(item_type: str) -> Any:
    return f.assessment([f.ITEM_FACTORIES[item_type]("q")]).items[0]


@pytest.mark.parametrize(
    ("item_type", "raw", "expected"),
    [
        ("single-choice", {"option": "b"}, SingleChoiceAnswer("b")),
        (
            "multiple-response",
            {"options": ["c", "a"]},
            MultipleResponseAnswer(frozenset({"a", "c"})),
        ),
        ("true-false", {"value": False}, TrueFalseAnswer(False)),
        ("true-false", {"value": "true"}, TrueFalseAnswer(True)),
        ("true-false", {"value": "False"}, TrueFalseAnswer(False)),
        ("situational-judgement", {"best": "a"}, SituationalJudgementAnswer("a", {})),
        (
            "situational-judgement",
            {"best": None, "ratings": {"a": 4, "b": "3"}},
            SituationalJudgementAnswer(None, {"a": 4, "b": 3}),
        ),
        ("free-text", {"text": "  It sounds hard.  "}, FreeTextAnswer("It sounds hard.")),
    ],
)
def test_valid_answers_are_parsed(item_type: str, raw: dict[str, Any], expected: Any) -> None:
    assert parse_answer(item(item_type), raw) == expected


@pytest.mark.parametrize(
    ("item_type", "raw"),
    [
        ("single-choice", None),
        ("single-choice", {}),
        ("single-choice", {"option": None}),
        ("single-choice", {"option": ""}),
        ("multiple-response", {"options": []}),
        ("multiple-response", {}),
        ("true-false", {"value": None}),
        ("situational-judgement", {"best": None, "ratings": {}}),
        ("situational-judgement", {"ratings": {"a": None}}),
        ("free-text", {"text": "   "}),
        ("free-text", {}),
    ],
)
def test_missing_answers_are_unanswered_not_errors(item_type: str, raw: Any) -> None:
    assert parse_answer(item(item_type), raw) is None


@pytest.mark.parametrize(
    ("item_type", "raw", "message"),
    [
        ("single-choice", {"option": "z"}, "unknown option id 'z'"),
        ("single-choice", {"option": 2}, "option id must be a string"),
        ("single-choice", {"choice": "a"}, "unexpected field"),
        ("single-choice", ["a"], "must be an object"),
        ("multiple-response", {"options": ["a", "a"]}, "chosen more than once: a"),
        ("multiple-response", {"options": ["a", "c", "c", "a"]}, "chosen more than once: a, c"),
        ("multiple-response", {"options": ["a", "x"]}, "unknown option id 'x'"),
        ("multiple-response", {"options": "a"}, "must be a list"),
        ("true-false", {"value": "yes"}, "must be true or false"),
        ("true-false", {"value": 1}, "must be true or false"),
        ("situational-judgement", {"best": "e"}, "unknown option id 'e'"),
        ("situational-judgement", {"ratings": {"a": 5}}, "ratings go from 1 to 4"),
        ("situational-judgement", {"ratings": {"a": 0}}, "ratings go from 1 to 4"),
        ("situational-judgement", {"ratings": {"a": -1}}, "ratings go from 1 to 4"),
        ("situational-judgement", {"ratings": {"a": "four"}}, "whole number 1-4"),
        ("situational-judgement", {"ratings": {"a": 2.5}}, "whole number 1-4"),
        ("situational-judgement", {"ratings": {"a": True}}, "must be 1-4"),
        ("situational-judgement", {"ratings": {"z": 3}}, "unknown option id 'z'"),
        ("situational-judgement", {"ratings": [4, 3, 2, 1]}, "ratings must map option ids"),
        ("free-text", {"text": 42}, "text must be a string"),
        ("free-text", {"text": "x" * 5001}, "the limit is 5000"),
    ],
)
def test_invalid_answers_are_rejected_with_a_clear_message(
    item_type: str, raw: Any, message: str
) -> None:
    with pytest.raises(AnswerError, match=message) as error:
        parse_answer(item(item_type), raw)
    assert error.value.item_id == "q"
    assert str(error.value).startswith("item q: ")
