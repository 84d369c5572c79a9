"""Small assessment definitions for scoring tests, built through the real pydantic models."""

from __future__ import annotations

from typing import Any

from app.scoring.definitions import QuestionAssessment, parse_assessment

# Key texts carry a marker so a leak into anything sent to a browser is easy to spot.
SECRET = "KEYTEXT"


def single(
    item_id: str = "sc", correct: str = "b", competency: str | None = None
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "single-choice",
        "prompt": "Which of these is an open question?",
        "options": [
            {"id": o, "text": f"Option {o}", "correct": o == correct} for o in ("a", "b", "c")
        ],
        "feedback": f"{SECRET} single feedback",
        **({"competency": competency} if competency else {}),
    }


def multiple(item_id: str = "mr", correct: tuple[str, ...] = ("a", "c", "d")) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "multiple-response",
        "prompt": "Which of these are roadblocks? Choose all that apply.",
        "options": [
            {"id": o, "text": f"Option {o}", "correct": o in correct}
            for o in ("a", "b", "c", "d", "e")
        ],
        "feedback": f"{SECRET} multiple feedback",
    }


def true_false(item_id: str = "tf", key: bool = False) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "true-false",
        "statement": "A peer worker may promise to keep everything secret.",
        "answer": key,
        "feedback": f"{SECRET} true-false feedback",
    }


def situational(item_id: str = "sj", mode: str = "both") -> dict[str, Any]:
    ratings = {"a": 4, "b": 3, "c": 2, "d": 1}
    return {
        "id": item_id,
        "type": "situational-judgement",
        "scenario": "Ravi says: everyone keeps telling me what to do.",
        "question": "How effective is each response?",
        "mode": mode,
        "options": [
            {
                "id": o,
                "text": f"Response {o}",
                "rating": r,
                "rationale": f"{SECRET} rationale {o}",
            }
            for o, r in ratings.items()
        ],
        "feedback": f"{SECRET} sjt feedback",
    }


def free_text(item_id: str = "ft") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "free-text",
        "statement": "I don't know why I bother. Nothing ever changes.",
        "prompt": "Write what you would say back.",
        "look_for": ["reflection", "open-question"],
        "model_answer": f"{SECRET} model reply",
        "feedback": f"{SECRET} free-text feedback",
        "min_words": 5,
    }


ITEM_FACTORIES = {
    "single-choice": single,
    "multiple-response": multiple,
    "true-false": true_false,
    "situational-judgement": situational,
    "free-text": free_text,
}


def assessment(
    items: list[dict[str, Any]],
    *,
    kind: str = "knowledge-check",
    draw: int | None = None,
    shuffle: bool = True,
    pass_mark: float = 0.8,
    assessment_id: str = "test-check",
    competencies: tuple[str, ...] = ("active-listening",),
) -> QuestionAssessment:
    data: dict[str, Any] = {
        "id": assessment_id,
        "title": "Test check",
        "kind": kind,
        "competencies": list(competencies),
        "pass_mark": pass_mark,
        "shuffle": shuffle,
        "items": items,
    }
    if draw is not None:
        data["draw"] = draw
    parsed = parse_assessment(data)
    assert isinstance(parsed, QuestionAssessment)
    return parsed


def bank(n: int) -> list[dict[str, Any]]:
    """n items cycling through every question type."""
    makers = list(ITEM_FACTORIES.values())
    return [makers[i % len(makers)](f"item-{i}") for i in range(n)]
