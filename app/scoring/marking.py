"""Scores for items and attempts, each with an explanation a trainee can read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

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


# Not frozen, but read-only by convention: a frozen dataclass costs about four times as much
# to build (each field goes through object.__setattr__) and every scored item builds one.
@dataclass(slots=True)
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


def score_item(
    item: QuestionItem, answer: Answer | None, default_competency: str | None = None
) -> ItemScore:
    """Score one item; an unanswered item scores 0 and its key is still shown for review."""
    return _marker(item, item.competency or default_competency).score(answer)


def score_attempt(
    assessment: QuestionAssessment,
    plan: AttemptPlan,
    answers: Mapping[str, Mapping[str, object] | None],
) -> AttemptScore:
    """Score a submitted attempt: raw answers by item id in, points, pass and explanations out."""
    planned = planned_items(assessment, plan)
    if not answers.keys() <= {item.id for item, _ in planned}:
        unknown = next(i for i in answers if i not in {item.id for item, _ in planned})
        raise AnswerError(unknown, "this item is not part of the attempt")
    markers = _markers(assessment)
    scores = [
        markers[item.id].score(parse_answer(item, answers.get(item.id))) for item, _ in planned
    ]
    points = 0.0
    max_points = 0.0
    by_competency: dict[str, list[float]] = {}
    for s in scores:
        points += s.points
        max_points += s.max_points
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


@lru_cache(maxsize=4096)
def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(sorted(ids)) or "none"


def pick_best_credit(expert_rating: int) -> float:
    """Credit for choosing an option as best: its expert rating mapped 4→1, 3→⅔, 2→⅓, 1→0."""
    return (expert_rating - 1) / 3


@lru_cache(maxsize=1024)
def _closeness(total_gap: int, options: int) -> tuple[float, str]:
    """Rate-each credit for ratings `total_gap` levels from the experts' in all, and why."""
    apart = total_gap / options
    closeness = 1 - apart / 3
    return closeness, (
        f"are {_num(apart)} apart on average: 1 − {_num(apart)} / 3 = {_num(closeness)}."
    )


# --- markers ------------------------------------------------------------------------------
# A marker scores one item. It is built once per item definition (definitions are immutable
# and live as long as their release) with everything that does not depend on the answer:
# the key, and the scores and sentences of every outcome that can be listed in advance.


class _Marker:
    def score(self, answer: Answer | None) -> ItemScore:
        raise NotImplementedError


class _SingleChoice(_Marker):
    def __init__(self, item: SingleChoiceItem, competency: str | None) -> None:
        self.item = item
        self.competency = competency
        self.correct = correct = next(o.id for o in item.options if o.correct)
        self.unanswered = f"Not answered. The correct answer is {correct}."
        self.by_option = {
            o.id: (1.0, f"Correct: {correct}. 1 of 1 point.")
            if o.id == correct
            else (0.0, f"You chose {o.id}; the correct answer is {correct}. 0 of 1 point.")
            for o in item.options
        }

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, SingleChoiceAnswer):
            points, text = self.by_option[answer.option]
        else:
            points, text = 0.0, self.unanswered
        item = self.item
        return ItemScore(
            item.id, item.type, self.competency, points, 1.0, answer is not None, text,
            correct_options=(self.correct,), feedback=item.feedback,
        )  # fmt: skip


class _TrueFalse(_Marker):
    def __init__(self, item: TrueFalseItem, competency: str | None) -> None:
        self.item = item
        self.competency = competency
        self.key = key = "true" if item.answer else "false"
        self.unanswered = f"Not answered. The statement is {key}."
        self.by_value = {
            value: (1.0, f"Correct: the statement is {key}. 1 of 1 point.")
            if value == item.answer
            else (
                0.0,
                f"You answered {'true' if value else 'false'}; the statement is {key}. "
                f"0 of 1 point.",
            )
            for value in (True, False)
        }

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, TrueFalseAnswer):
            points, text = self.by_value[answer.value]
        else:
            points, text = 0.0, self.unanswered
        item = self.item
        return ItemScore(
            item.id, item.type, self.competency, points, 1.0, answer is not None, text,
            correct_options=(self.key,), feedback=item.feedback,
        )  # fmt: skip


class _MultipleResponse(_Marker):
    def __init__(self, item: MultipleResponseItem, competency: str | None) -> None:
        self.item = item
        self.competency = competency
        self.correct = tuple(sorted(o.id for o in item.options if o.correct))
        self.correct_set = frozenset(self.correct)
        n = len(self.correct)
        listed = _ids(self.correct)
        self.unanswered = f"Not answered. The correct options are {listed}."
        # Points and the explanation, with {0} and {1} for the chosen ids, for every
        # count of right and wrong choices.
        self.outcomes: dict[tuple[int, int], tuple[float, str]] = {}
        for right in range(n + 1):
            for wrong in range(len(item.options) - n + 1):
                points = max(0.0, (right - wrong) / n)
                self.outcomes[right, wrong] = (
                    points,
                    f"You chose {right} of the {n} correct options ({{0}}) "
                    f"and {wrong} that {'is' if wrong == 1 else 'are'} not correct "
                    f"({{1}}). Each wrong choice cancels a right one: "
                    f"max(0, ({right} − {wrong}) / {n}) = {_num(points)} of 1 point. "
                    f"The correct options are {listed}.",
                )

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, MultipleResponseAnswer):
            right = answer.options & self.correct_set
            wrong = answer.options - self.correct_set
            points, text = self.outcomes[len(right), len(wrong)]
            text = text.format(_ids(right), _ids(wrong))
        else:
            points, text = 0.0, self.unanswered
        item = self.item
        return ItemScore(
            item.id, item.type, self.competency, points, 1.0, answer is not None, text,
            correct_options=self.correct, feedback=item.feedback,
        )  # fmt: skip


class _SituationalJudgement(_Marker):
    def __init__(self, item: SituationalJudgementItem, competency: str | None) -> None:
        self.item = item
        self.competency = competency
        self.ratings = MappingProxyType({o.id: o.rating for o in item.options})
        self.rationales = MappingProxyType({o.id: o.rationale for o in item.options})
        self.best = best = next(o.id for o in item.options if o.rating == 4)
        self.pick = item.mode in ("pick-best", "both")
        self.rate = item.mode in ("rate-each", "both")
        # What choosing each option as best earns, and the sentences that say so.
        self.picked: dict[str | None, tuple[float, str]] = {
            None: (0.0, f"No best response chosen; the experts' best is {best}.")
        }
        for o, rating in self.ratings.items():
            credit = pick_best_credit(rating)
            if o == best:
                line = f"You chose {best}, the experts' best response: {_num(credit)}."
            else:
                line = (
                    f"You chose {o} as best; the experts rated it {rating} of 4 "
                    f"and chose {best}: {_num(credit)}."
                )
            if rating == 1:
                line += f" Experts rated {o} as potentially harmful; read why in the rationale."
            self.picked[o] = (credit, line)
        # Each option's distance from the expert rating and how it reads, for every rating a
        # trainee can give (None: not rated, counted as 3 apart).
        self.options = tuple(self.ratings)
        self.gaps: dict[tuple[str, int | None], int] = {}
        self.cells: dict[tuple[str, int | None], str] = {}
        for o, rating in self.ratings.items():
            for given in (None, 1, 2, 3, 4):
                self.gaps[o, given] = 3 if given is None else abs(given - rating)
                self.cells[o, given] = (
                    f"{o} you {'-' if given is None else given} / experts {rating}"
                )

    def score(self, answer: Answer | None) -> ItemScore:
        sj = answer if isinstance(answer, SituationalJudgementAnswer) else None
        key = self.ratings
        parts: list[float] = []
        lines: list[str] = []
        if self.pick:
            credit, line = self.picked[sj.best if sj is not None else None]
            parts.append(credit)
            lines.append(line)
        if self.rate:
            ratings = sj.ratings if sj is not None else {}
            if not ratings:
                parts.append(0.0)
                lines.append("No options rated.")
            else:
                given = list(zip(self.options, map(ratings.get, self.options), strict=True))
                try:
                    total = sum(map(self.gaps.__getitem__, given))
                except KeyError:  # a rating parse_answer refuses
                    raise AnswerError(self.item.id, "ratings go from 1 to 4") from None
                closeness, summary = _closeness(total, len(given))
                parts.append(closeness)
                line = f"Your ratings ({', '.join(map(self.cells.__getitem__, given))}) {summary}"
                unrated = [o for o, r in given if r is None]
                if unrated:
                    line += f" Unrated options ({_ids(unrated)}) count as 3 apart."
                lines.append(line)
        points = sum(parts) / len(parts)
        if len(parts) == 2:
            lines.append(f"Mean of the two parts: {_num(points)} of 1 point.")
        else:
            lines.append(f"{_num(points)} of 1 point.")
        item = self.item
        return ItemScore(
            item.id, item.type, self.competency, points, 1.0, sj is not None, " ".join(lines),
            correct_options=(self.best,), expert_ratings=key,
            rationales=self.rationales, feedback=item.feedback,
        )  # fmt: skip


class _FreeText(_Marker):
    def __init__(self, item: FreeTextItem, competency: str | None) -> None:
        self.item = item
        self.competency = competency
        self.too_short = f"Try writing a little more: at least {item.min_words} words."

    def score(self, answer: Answer | None) -> ItemScore:
        item = self.item
        if not isinstance(answer, FreeTextAnswer):
            return ItemScore(
                item.id, item.type, self.competency, 0.0, 0.0, answer is not None,
                "Not answered. This response is for practice and feedback only; it is not scored.",
                feedback=item.feedback, model_answer=item.model_answer,
            )  # fmt: skip
        listening = analyse_listening(answer.text)
        lines = [listening.message]
        if item.min_words and len(answer.text.split()) < item.min_words:
            lines.append(self.too_short)
        found = listening.labels
        missing = [s for s in item.look_for if s not in found]
        if missing:
            lines.append(
                f"For this statement, also try: {', '.join(s.replace('-', ' ') for s in missing)}."
            )
        lines.append("This response is for practice and feedback only; it is not scored.")
        return ItemScore(
            item.id, item.type, self.competency, 0.0, 0.0, True, " ".join(lines),
            feedback=item.feedback, model_answer=item.model_answer, listening=listening,
        )  # fmt: skip


_MARKER_TYPES: dict[str, Callable[[Any, str | None], _Marker]] = {
    "single-choice": _SingleChoice,
    "multiple-response": _MultipleResponse,
    "true-false": _TrueFalse,
    "situational-judgement": _SituationalJudgement,
    "free-text": _FreeText,
}
_MARKERS: dict[tuple[int, str | None], tuple[QuestionItem, _Marker]] = {}
_MARKERS_LIMIT = 50_000


def _marker(item: QuestionItem, competency: str | None) -> _Marker:
    cached = _MARKERS.get((id(item), competency))
    if cached is not None and cached[0] is item:
        return cached[1]
    marker = _MARKER_TYPES[item.type](item, competency)
    if len(_MARKERS) >= _MARKERS_LIMIT:
        _MARKERS.clear()
    _MARKERS[id(item), competency] = (item, marker)
    return marker


_ASSESSMENT_MARKERS: dict[int, tuple[QuestionAssessment, dict[str, _Marker]]] = {}


def _markers(assessment: QuestionAssessment) -> dict[str, _Marker]:
    """The marker of every item in the bank by id, built once per (immutable) definition."""
    cached = _ASSESSMENT_MARKERS.get(id(assessment))
    if cached is not None and cached[0] is assessment:
        return cached[1]
    default = assessment.competencies[0]
    markers = {item.id: _marker(item, item.competency or default) for item in assessment.items}
    if len(_ASSESSMENT_MARKERS) >= 10_000:
        _ASSESSMENT_MARKERS.clear()
    _ASSESSMENT_MARKERS[id(assessment)] = (assessment, markers)
    return markers
