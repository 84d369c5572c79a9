"""The scoring rules on the programme's own assessment banks (assessments/*.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.scoring import draw_attempt, public_item, score_attempt
from app.scoring.definitions import (
    MultipleResponseItem,
    QuestionAssessment,
    SingleChoiceItem,
    SituationalJudgementItem,
    TrueFalseItem,
    parse_assessment,
)

ASSESSMENTS = Path(__file__).resolve().parents[2] / "assessments"
BANKS = sorted(ASSESSMENTS.glob("*.yaml"))


def load(path: Path) -> QuestionAssessment | None:
    parsed = parse_assessment(yaml.safe_load(path.read_text(encoding="utf-8")))
    return parsed if isinstance(parsed, QuestionAssessment) else None


def secrets(assessment: QuestionAssessment) -> list[str]:
    found: list[str] = []
    for item in assessment.items:
        found += [item.feedback] if item.feedback else []
        if isinstance(item, SituationalJudgementItem):
            found += [o.rationale for o in item.options]
        found += [getattr(item, "model_answer", None) or ""]
    return [s for s in found if len(s) > 20]


def perfect(assessment: QuestionAssessment) -> dict[str, dict[str, Any]]:
    answers: dict[str, dict[str, Any]] = {}
    for item in assessment.items:
        if isinstance(item, SingleChoiceItem):
            answers[item.id] = {"option": next(o.id for o in item.options if o.correct)}
        elif isinstance(item, MultipleResponseItem):
            answers[item.id] = {"options": [o.id for o in item.options if o.correct]}
        elif isinstance(item, TrueFalseItem):
            answers[item.id] = {"value": item.answer}
        elif isinstance(item, SituationalJudgementItem):
            answers[item.id] = {
                "best": next(o.id for o in item.options if o.rating == 4),
                "ratings": {o.id: o.rating for o in item.options},
            }
        else:
            answers[item.id] = {"text": item.model_answer or "It sounds hard. What happened?"}
    return answers


@pytest.mark.skipif(not BANKS, reason="no assessments in this checkout")
@pytest.mark.parametrize("path", BANKS, ids=[p.stem for p in BANKS])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_real_banks_leak_nothing_and_score_perfectly(path: Path, seed: int) -> None:
    assessment = load(path)
    if assessment is None:
        pytest.skip("role-play: no items")
    plan = draw_attempt(assessment, seed)
    items = {i.id: i for i in assessment.items}
    payload = json.dumps([public_item(items[e.item_id], e) for e in plan.entries])
    for secret in secrets(assessment):
        assert secret not in payload
    for name in ("correct", "rating", "rationale", "feedback", "model_answer", '"answer"'):
        assert f'"{name.strip(chr(34))}":' not in payload
    answers = {k: v for k, v in perfect(assessment).items() if k in plan.item_ids}
    result = score_attempt(assessment, plan, answers)
    assert result.fraction == pytest.approx(1.0) or result.formative
    assert result.passed
    assert not score_attempt(assessment, plan, {}).passed or result.formative


def model_answers() -> list[tuple[str, Any]]:
    found = []
    for path in BANKS:
        assessment = load(path)
        for item in assessment.items if assessment else []:
            if getattr(item, "model_answer", None):
                found.append((f"{assessment.id}/{item.id}", item))  # type: ignore[union-attr]
    return found


MODEL_ANSWERS = model_answers()


@pytest.mark.skipif(not MODEL_ANSWERS, reason="no free-text items with model answers")
@pytest.mark.parametrize(("name", "item"), MODEL_ANSWERS, ids=[n for n, _ in MODEL_ANSWERS])
def test_model_answers_show_what_they_look_for_and_no_roadblock(name: str, item: Any) -> None:
    """Text written by the content writers, not by the analyzer's author: an independent check."""
    from app.scoring import analyse_listening

    feedback = analyse_listening(item.model_answer)
    assert set(item.look_for) <= feedback.labels, (name, feedback.detections)
    assert not feedback.roadblocks_found, (name, feedback.detections)
