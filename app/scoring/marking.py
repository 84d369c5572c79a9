"""Scores for items and attempts, each with an explanation a trainee can read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from app.scoring.answers import (
    Answer,
    AnswerError,
    FreeTextAnswer,
    MultipleResponseAnswer,
    QuestionItem,
    SingleChoiceAnswer,
    SituationalJudgementAnswer,
    TrueFalseAnswer,
    parse_answer,
)
from app.scoring.definitions import (
    FreeTextItem,
    MultipleResponseItem,
    QuestionAssessment,
    SingleChoiceItem,
    SituationalJudgementItem,
    TrueFalseItem,
)
from app.scoring.listening import ListeningFeedback, analyse_listening
from app.scoring.plan import AttemptPlan, planned_items

# Pass marks are compared with a little slack so 0.8 of 10 items passes a 0.8 mark
# despite floating-point sums.
EPSILON = 1e-9


@dataclass(frozen=True)
class ItemScore:
    """The score of one item, with the key shown in the review after submission."""

    item_id: str
    item_type: str
    competency: str | None
    points: float
    max_points: float
    answered: bool
    explanation: str
    correct_options: tuple[str, ...] = ()
    expert_ratings: Mapping[str, int] = field(default_factory=dict)
    rationales: Mapping[str, str] = field(default_factory=dict)
    feedback: str | None = None
    model_answer: str | None = None
    listening: ListeningFeedback | None = None

    @property
    def fraction(self) -> float | None:
        """Points as a fraction of the maximum; None for formative (ungraded) items."""
        return self.points / self.max_points if self.max_points else None


@dataclass(frozen=True)
class AttemptScore:
    """The result of one submitted attempt."""

    assessment_id: str
    points: float
    max_points: float
    fraction: float
    pass_mark: float
    passed: bool
    formative: bool
    items: tuple[ItemScore, ...]
    competencies: Mapping[str, float]

    @property
    def explanations(self) -> list[str]:
        """One line for the result, then one per item, in the order the items were shown."""
        if self.formative:
            answered = sum(i.answered for i in self.items)
            head = (
                f"This exercise is for practice and feedback only: {answered} of "
                f"{len(self.items)} responses written."
            )
        else:
            verdict = "passed" if self.passed else "not passed yet"
            head = (
                f"{_num(self.points)} of {_num(self.max_points)} points "
                f"({self.fraction:.0%}); the pass mark is {self.pass_mark:.0%}: {verdict}."
            )
        return [head, *(f"{i.item_id}: {i.explanation}" for i in self.items)]


@dataclass(frozen=True)
class _Key:
    correct: tuple[str, ...]
    correct_set: frozenset[str]
    ratings: Mapping[str, int]
    rationales: Mapping[str, str]


# Keys derived from an item definition, built once per definition: definitions are immutable
# and live as long as their release, and scoring runs thousands of times per definition.
_KEYS: dict[int, tuple[QuestionItem, _Key]] = {}
_KEYS_LIMIT = 50_000


def _key(item: QuestionItem) -> _Key:
    cached = _KEYS.get(id(item))
    if cached is not None and cached[0] is item:
        return cached[1]
    if isinstance(item, SingleChoiceItem | MultipleResponseItem):
        correct = tuple(sorted(o.id for o in item.options if o.correct))
        key = _Key(correct, frozenset(correct), MappingProxyType({}), MappingProxyType({}))
    elif isinstance(item, TrueFalseItem):
        key = _Key(
            ("true" if item.answer else "false",),
            frozenset(),
            MappingProxyType({}),
            MappingProxyType({}),
        )
    elif isinstance(item, SituationalJudgementItem):
        best = next(o.id for o in item.options if o.rating == 4)
        key = _Key(
            (best,), frozenset((best,)),
            MappingProxyType({o.id: o.rating for o in item.options}),
            MappingProxyType({o.id: o.rationale for o in item.options}),
        )  # fmt: skip
    else:
        key = _Key((), frozenset(), MappingProxyType({}), MappingProxyType({}))
    if len(_KEYS) >= _KEYS_LIMIT:
        _KEYS.clear()
    _KEYS[id(item)] = (item, key)
    return key


def score_item(
    item: QuestionItem, answer: Answer | None, default_competency: str | None = None
) -> ItemScore:
    """Score one item; an unanswered item scores 0 and its key is still shown for review."""
    competency = item.competency or default_competency
    if isinstance(item, SingleChoiceItem):
        return _single(item, answer, competency)
    if isinstance(item, MultipleResponseItem):
        return _multiple(item, answer, competency)
    if isinstance(item, TrueFalseItem):
        return _true_false(item, answer, competency)
    if isinstance(item, SituationalJudgementItem):
        return _situational(item, answer, competency)
    return _free_text(item, answer, competency)


def score_attempt(
    assessment: QuestionAssessment,
    plan: AttemptPlan,
    answers: Mapping[str, Mapping[str, object] | None],
) -> AttemptScore:
    """Score a submitted attempt: raw answers by item id in, points, pass and explanations out."""
    planned = planned_items(assessment, plan)
    in_plan = {item.id for item, _ in planned}
    for item_id in answers:
        if item_id not in in_plan:
            raise AnswerError(item_id, "this item is not part of the attempt")
    default = assessment.competencies[0]
    scores = []
    for item, _ in planned:
        answer = parse_answer(item, answers.get(item.id))
        scores.append(score_item(item, answer, default))
    points = sum(s.points for s in scores)
    max_points = sum(s.max_points for s in scores)
    by_competency: dict[str, list[float]] = {}
    for s in scores:
        if s.max_points and s.competency:
            got, out_of = by_competency.setdefault(s.competency, [0.0, 0.0])
            by_competency[s.competency] = [got + s.points, out_of + s.max_points]
    formative = max_points == 0
    fraction = points / max_points if max_points else 0.0
    passed = (
        all(s.answered for s in scores) if formative else fraction + EPSILON >= assessment.pass_mark
    )
    return AttemptScore(
        assessment_id=assessment.id,
        points=points,
        max_points=max_points,
        fraction=fraction,
        pass_mark=assessment.pass_mark,
        passed=passed,
        formative=formative,
        items=tuple(scores),
        competencies={c: got / out_of for c, (got, out_of) in by_competency.items()},
    )


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def _ids(ids: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    return ", ".join(sorted(ids)) or "none"


def _single(item: SingleChoiceItem, answer: Answer | None, competency: str | None) -> ItemScore:
    correct = _key(item).correct[0]
    if not isinstance(answer, SingleChoiceAnswer):
        points, text = 0.0, f"Not answered. The correct answer is {correct}."
    elif answer.option == correct:
        points, text = 1.0, f"Correct: {correct}. 1 of 1 point."
    else:
        points = 0.0
        text = f"You chose {answer.option}; the correct answer is {correct}. 0 of 1 point."
    return ItemScore(
        item.id, item.type, competency, points, 1.0, answer is not None, text,
        correct_options=(correct,), feedback=item.feedback,
    )  # fmt: skip


def _multiple(
    item: MultipleResponseItem, answer: Answer | None, competency: str | None
) -> ItemScore:
    key = _key(item)
    correct = key.correct_set
    if not isinstance(answer, MultipleResponseAnswer):
        points = 0.0
        text = f"Not answered. The correct options are {_ids(correct)}."
    else:
        right = answer.options & correct
        wrong = answer.options - correct
        points = max(0.0, (len(right) - len(wrong)) / len(correct))
        text = (
            f"You chose {len(right)} of the {len(correct)} correct options ({_ids(right)}) "
            f"and {len(wrong)} that {'is' if len(wrong) == 1 else 'are'} not correct "
            f"({_ids(wrong)}). Each wrong choice cancels a right one: "
            f"max(0, ({len(right)} − {len(wrong)}) / {len(correct)}) = {_num(points)} of 1 point. "
            f"The correct options are {_ids(correct)}."
        )
    return ItemScore(
        item.id, item.type, competency, points, 1.0, answer is not None, text,
        correct_options=key.correct, feedback=item.feedback,
    )  # fmt: skip


def _true_false(item: TrueFalseItem, answer: Answer | None, competency: str | None) -> ItemScore:
    key = "true" if item.answer else "false"
    if not isinstance(answer, TrueFalseAnswer):
        points, text = 0.0, f"Not answered. The statement is {key}."
    elif answer.value == item.answer:
        points, text = 1.0, f"Correct: the statement is {key}. 1 of 1 point."
    else:
        points = 0.0
        text = f"You answered {'true' if answer.value else 'false'}; the statement is {key}. 0 of 1 point."
    return ItemScore(
        item.id, item.type, competency, points, 1.0, answer is not None, text,
        correct_options=(key,), feedback=item.feedback,
    )  # fmt: skip


def pick_best_credit(expert_rating: int) -> float:
    """Credit for choosing an option as best: its expert rating mapped 4→1, 3→⅔, 2→⅓, 1→0."""
    return (expert_rating - 1) / 3


def _situational(
    item: SituationalJudgementItem, answer: Answer | None, competency: str | None
) -> ItemScore:
    cached = _key(item)
    key = cached.ratings
    best = cached.correct[0]
    parts: list[float] = []
    lines: list[str] = []
    sj = answer if isinstance(answer, SituationalJudgementAnswer) else None
    if item.mode in ("pick-best", "both"):
        if sj is None or sj.best is None:
            parts.append(0.0)
            lines.append(f"No best response chosen; the experts' best is {best}.")
        else:
            credit = pick_best_credit(key[sj.best])
            parts.append(credit)
            if sj.best == best:
                lines.append(f"You chose {best}, the experts' best response: {_num(credit)}.")
            else:
                lines.append(
                    f"You chose {sj.best} as best; the experts rated it {key[sj.best]} of 4 "
                    f"and chose {best}: {_num(credit)}."
                )
            if key[sj.best] == 1:
                lines.append(
                    f"Experts rated {sj.best} as potentially harmful; read why in the rationale."
                )
    if item.mode in ("rate-each", "both"):
        ratings = sj.ratings if sj is not None else {}
        if not ratings:
            parts.append(0.0)
            lines.append("No options rated.")
        else:
            gaps = {o: abs(ratings[o] - r) if o in ratings else 3 for o, r in key.items()}
            closeness = 1 - sum(gaps.values()) / len(gaps) / 3
            parts.append(closeness)
            compared = ", ".join(
                f"{o} you {ratings.get(o, '-')} / experts {r}" for o, r in key.items()
            )
            unrated = [o for o in key if o not in ratings]
            note = f" Unrated options ({_ids(unrated)}) count as 3 apart." if unrated else ""
            lines.append(
                f"Your ratings ({compared}) are {_num(sum(gaps.values()) / len(gaps))} apart "
                f"on average: 1 − {_num(sum(gaps.values()) / len(gaps))} / 3 = {_num(closeness)}."
                + note
            )
    points = sum(parts) / len(parts)
    if len(parts) == 2:
        lines.append(f"Mean of the two parts: {_num(points)} of 1 point.")
    else:
        lines.append(f"{_num(points)} of 1 point.")
    return ItemScore(
        item.id, item.type, competency, points, 1.0, sj is not None, " ".join(lines),
        correct_options=(best,), expert_ratings=key,
        rationales=cached.rationales, feedback=item.feedback,
    )  # fmt: skip


def _free_text(item: FreeTextItem, answer: Answer | None, competency: str | None) -> ItemScore:
    if not isinstance(answer, FreeTextAnswer):
        return ItemScore(
            item.id, item.type, competency, 0.0, 0.0, False,
            "Not answered. This response is for practice and feedback only; it is not scored.",
            feedback=item.feedback, model_answer=item.model_answer,
        )  # fmt: skip
    listening = analyse_listening(answer.text)
    lines = [listening.message]
    words = len(answer.text.split())
    if words < item.min_words:
        lines.append(f"Try writing a little more: at least {item.min_words} words.")
    found = set(listening.skills_found)
    missing = [s for s in item.look_for if s not in found]
    if missing:
        lines.append(
            f"For this statement, also try: {', '.join(s.replace('-', ' ') for s in missing)}."
        )
    lines.append("This response is for practice and feedback only; it is not scored.")
    return ItemScore(
        item.id, item.type, competency, 0.0, 0.0, True, " ".join(lines),
        feedback=item.feedback, model_answer=item.model_answer, listening=listening,
    )  # fmt: skip
