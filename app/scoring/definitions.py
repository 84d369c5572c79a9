"""Assessment definitions: the typed form of `assessments/<id>.yaml` (see docs/assessments.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Rating = Annotated[int, Field(ge=1, le=4)]

LISTENING_SKILLS = ("open-question", "reflection", "affirmation", "summary")
ROADBLOCKS = ("advising", "minimising", "judging", "interrogating", "self-focus")
ListeningSkill = Literal["open-question", "reflection", "affirmation", "summary"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    id: Identifier
    text: str = Field(min_length=1)
    correct: bool = False


class ItemBase(Strict):
    id: Identifier
    competency: Identifier | None = None
    feedback: str | None = None


def _unique_option_ids(options: list[Option] | list[RatedOption]) -> None:
    ids = [o.id for o in options]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate option id(s): {', '.join(duplicates)}")


class SingleChoiceItem(ItemBase):
    type: Literal["single-choice"]
    prompt: str = Field(min_length=1)
    options: list[Option] = Field(min_length=2, max_length=8)

    @model_validator(mode="after")
    def _one_correct(self) -> SingleChoiceItem:
        _unique_option_ids(self.options)
        correct = sum(o.correct for o in self.options)
        if correct != 1:
            raise ValueError(
                f"a single-choice item needs exactly one correct option, not {correct}"
            )
        return self


class MultipleResponseItem(ItemBase):
    type: Literal["multiple-response"]
    prompt: str = Field(min_length=1)
    options: list[Option] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _some_correct(self) -> MultipleResponseItem:
        _unique_option_ids(self.options)
        if not any(o.correct for o in self.options):
            raise ValueError("a multiple-response item needs at least one correct option")
        return self


class TrueFalseItem(ItemBase):
    type: Literal["true-false"]
    statement: str = Field(min_length=1)
    answer: bool


class RatedOption(Strict):
    id: Identifier
    text: str = Field(min_length=1)
    rating: Rating
    rationale: str = Field(min_length=1)


class SituationalJudgementItem(ItemBase):
    type: Literal["situational-judgement"]
    scenario: str = Field(min_length=1)
    question: str = "How effective is each response?"
    mode: Literal["pick-best", "rate-each", "both"] = "both"
    options: list[RatedOption] = Field(min_length=4, max_length=4)

    @model_validator(mode="after")
    def _one_best(self) -> SituationalJudgementItem:
        _unique_option_ids(self.options)
        best = sum(o.rating == 4 for o in self.options)
        if best != 1:
            raise ValueError(f"exactly one option must have the expert rating 4, not {best}")
        return self


class FreeTextItem(ItemBase):
    type: Literal["free-text"]
    statement: str = Field(min_length=1)
    prompt: str = "Write what you would say back."
    look_for: list[ListeningSkill] = Field(default_factory=list)
    model_answer: str | None = None
    min_words: int = Field(default=3, ge=0, le=200)


Item = Annotated[
    SingleChoiceItem
    | MultipleResponseItem
    | TrueFalseItem
    | SituationalJudgementItem
    | FreeTextItem,
    Field(discriminator="type"),
]


class AssessmentBase(Strict):
    id: Identifier
    title: str = Field(min_length=1)
    module: Identifier | None = None
    competencies: list[Identifier] = Field(min_length=1)
    instructions: str = ""


class QuestionAssessment(AssessmentBase):
    """Knowledge checks, situational-judgement banks and free-text exercises."""

    kind: Literal["knowledge-check", "situational-judgement", "free-text"]
    pass_mark: float = Field(default=0.8, gt=0, le=1)
    time_limit_minutes: int | None = Field(default=None, ge=1, le=600)
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    cooldown_minutes: int = Field(default=0, ge=0, le=10080)
    draw: int | None = Field(default=None, ge=1)
    shuffle: bool = True
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _bank_is_consistent(self) -> QuestionAssessment:
        ids = [i.id for i in self.items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate item id(s): {', '.join(duplicates)}")
        if self.draw is not None and self.draw > len(self.items):
            raise ValueError(f"draw is {self.draw} but the bank has only {len(self.items)} items")
        return self


class ScriptCue(Strict):
    when: str
    say: str
    purpose: str


class RolePlayScript(Strict):
    persona: str = Field(min_length=1)
    opening: str = Field(min_length=1)
    cues: list[ScriptCue] = Field(default_factory=list)
    do_not: str = ""


class RubricItem(Strict):
    id: Identifier
    competency: Identifier
    title: str = Field(min_length=1)
    levels: dict[Rating, str]

    @model_validator(mode="after")
    def _all_levels(self) -> RubricItem:
        missing = [level for level in (1, 2, 3, 4) if level not in self.levels]
        if missing:
            raise ValueError(f"rubric item needs a descriptor for level(s) {missing}")
        return self


class RolePlayAssessment(AssessmentBase):
    kind: Literal["role-play"]
    duration_minutes: int = Field(default=10, ge=1, le=180)
    script: RolePlayScript
    rubric: list[RubricItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_rubric_ids(self) -> RolePlayAssessment:
        ids = [r.id for r in self.rubric]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate rubric item id(s): {', '.join(duplicates)}")
        return self


Assessment = Annotated[QuestionAssessment | RolePlayAssessment, Field(discriminator="kind")]
assessment_adapter: TypeAdapter[QuestionAssessment | RolePlayAssessment] = TypeAdapter(Assessment)


def parse_assessment(data: object) -> QuestionAssessment | RolePlayAssessment:
    """Validate a loaded YAML mapping into an assessment definition (raises ValidationError)."""
    return assessment_adapter.validate_python(data)
