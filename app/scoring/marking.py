"""Scores for items and attempts, each with an explanation a trainee can read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from app.scoring.answers import (
    MAX_FREE_TEXT_CHARS,
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


_NO_MAPPING: Mapping[str, Any] = MappingProxyType({})


# A named tuple, not a dataclass: every scored item builds one, and a tuple is immutable yet
# several times cheaper to build than a frozen dataclass (whose fields each go through
# object.__setattr__), so the scores of outcomes known in advance can even be shared.
class ItemScore(NamedTuple):
    """The score of one item, with the key shown in the review after submission."""

    item_id: str
    item_type: str
    competency: str | None
    points: float
    max_points: float
    answered: bool
    explanation: str
    correct_options: tuple[str, ...] = ()
    expert_ratings: Mapping[str, int] = _NO_MAPPING
    rationales: Mapping[str, str] = _NO_MAPPING
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
    # The plan's item ids, each checked against the bank (read from the plan: a pydantic
    # model's attributes cost more to read).
    ids = [entry.item_id for _, entry in planned_items(assessment, plan)]
    if not answers.keys() <= set(ids):
        unknown = next(i for i in answers if i not in ids)
        raise AnswerError(unknown, "this item is not part of the attempt")
    markers = _markers(assessment)
    get = answers.get
    scores = [markers[i].mark(get(i)) for i in ids]
    points = 0.0
    max_points = 0.0
    by_competency: dict[str, list[float]] = {}
    for s in scores:
        points += s.points
        if s.max_points:
            max_points += s.max_points
            if s.competency:
                totals = by_competency.setdefault(s.competency, [0.0, 0.0])
                totals[0] += s.points
                totals[1] += s.max_points
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
#
# `mark` parses and scores a raw answer in one step. Each marker recognises the usual
# well-formed answer itself (a plain dict with a known option id, a list of distinct known
# ids, ratings 1-4 as ints, a string) and hands everything else to `parse_answer` and
# `score`, which validate and explain; both ways give the same ItemScore (a test checks this
# on random answers). Results are built with tuple.__new__ from all their fields, which skips
# the named tuple's Python-level __new__ (most of the cost of a single-choice item).

_new_score = tuple.__new__


class _Marker:
    item: QuestionItem

    def __init__(self, item: QuestionItem, competency: str | None) -> None:
        self.item = item
        self.competency = competency
        # Plain copies: a pydantic model's attributes take several times as long to read.
        self.item_id = item.id
        self.item_type = item.type
        self.feedback = item.feedback

    def score(self, answer: Answer | None) -> ItemScore:
        raise NotImplementedError

    def mark(self, raw: Mapping[str, object] | None) -> ItemScore:
        """Score a raw answer; the same as `score(parse_answer(item, raw))`."""
        return self.score(parse_answer(self.item, raw))


class _SingleChoice(_Marker):
    def __init__(self, item: SingleChoiceItem, competency: str | None) -> None:
        super().__init__(item, competency)
        correct = next(o.id for o in item.options if o.correct)
        key = (correct,)

        def result(points: float, answered: bool, text: str) -> ItemScore:
            return ItemScore(item.id, item.type, competency, points, 1.0, answered, text, key,
                             feedback=item.feedback)  # fmt: skip

        # The score for each option chosen, and for no answer.
        self.by_option = {
            o.id: result(1.0, True, f"Correct: {correct}. 1 of 1 point.")
            if o.id == correct
            else result(
                0.0, True, f"You chose {o.id}; the correct answer is {correct}. 0 of 1 point."
            )
            for o in item.options
        }
        self.unanswered = result(0.0, False, f"Not answered. The correct answer is {correct}.")

    def mark(self, raw: Mapping[str, object] | None) -> ItemScore:
        if type(raw) is dict and len(raw) == 1:
            option = raw.get("option")
            if type(option) is str and option in self.by_option:
                return self.by_option[option]
        return super().mark(raw)

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, SingleChoiceAnswer):
            return self.by_option[answer.option]
        if answer is not None:  # an answer of another type: answered, but no credit
            return self.unanswered._replace(answered=True)
        return self.unanswered


class _TrueFalse(_Marker):
    def __init__(self, item: TrueFalseItem, competency: str | None) -> None:
        super().__init__(item, competency)
        key = "true" if item.answer else "false"

        def result(points: float, answered: bool, text: str) -> ItemScore:
            return ItemScore(item.id, item.type, competency, points, 1.0, answered, text, (key,),
                             feedback=item.feedback)  # fmt: skip

        # The score for each answer, found by value or by its usual spelling.
        self.by_value: dict[bool | str, ItemScore] = {}
        for value in (True, False):
            self.by_value[value] = self.by_value["true" if value else "false"] = (
                result(1.0, True, f"Correct: the statement is {key}. 1 of 1 point.")
                if value == item.answer
                else result(
                    0.0,
                    True,
                    f"You answered {'true' if value else 'false'}; the statement is {key}. "
                    f"0 of 1 point.",
                )
            )
        self.unanswered = result(0.0, False, f"Not answered. The statement is {key}.")

    def mark(self, raw: Mapping[str, object] | None) -> ItemScore:
        if type(raw) is dict and len(raw) == 1:
            value = raw.get("value")
            # Checked by type first: 1 and 0 would find True and False in a dict.
            if (type(value) is bool or type(value) is str) and value in self.by_value:
                return self.by_value[value]
        return super().mark(raw)

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, TrueFalseAnswer):
            return self.by_value[answer.value]
        if answer is not None:
            return self.unanswered._replace(answered=True)
        return self.unanswered


class _MultipleResponse(_Marker):
    def __init__(self, item: MultipleResponseItem, competency: str | None) -> None:
        super().__init__(item, competency)
        self.known = frozenset(o.id for o in item.options)
        self.correct = tuple(sorted(o.id for o in item.options if o.correct))
        self.correct_set = frozenset(self.correct)
        n = len(self.correct)
        listed = _ids(self.correct)
        self.unanswered = f"Not answered. The correct options are {listed}."
        # Points and the explanation, in three pieces to put the right and the wrong choices
        # between, for every count of right and wrong choices.
        self.outcomes: dict[tuple[int, int], tuple[float, str, str, str]] = {}
        for right in range(n + 1):
            for wrong in range(len(item.options) - n + 1):
                points = max(0.0, (right - wrong) / n)
                self.outcomes[right, wrong] = (
                    points,
                    f"You chose {right} of the {n} correct options (",
                    f") and {wrong} that {'is' if wrong == 1 else 'are'} not correct (",
                    f"). Each wrong choice cancels a right one: "
                    f"max(0, ({right} − {wrong}) / {n}) = {_num(points)} of 1 point. "
                    f"The correct options are {listed}.",
                )

    def mark(self, raw: Mapping[str, object] | None) -> ItemScore:
        if type(raw) is dict and len(raw) == 1:
            options = raw.get("options")
            if type(options) is list and options:
                try:
                    chosen = frozenset(options)
                except TypeError:  # something unhashable: parse_answer says what
                    pass
                else:
                    if len(chosen) == len(options) and chosen <= self.known:
                        return self._chose(chosen)
        return super().mark(raw)

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, MultipleResponseAnswer):
            return self._chose(answer.options)
        return _new_score(ItemScore, (self.item_id, self.item_type, self.competency, 0.0, 1.0,
                          answer is not None, self.unanswered, self.correct, _NO_MAPPING,
                          _NO_MAPPING, self.feedback, None, None))  # fmt: skip

    def _chose(self, chosen: frozenset[str]) -> ItemScore:
        right = chosen & self.correct_set
        wrong = chosen - self.correct_set
        points, before, middle, after = self.outcomes[len(right), len(wrong)]
        return _new_score(ItemScore, (self.item_id, self.item_type, self.competency, points, 1.0,
                          True, f"{before}{_ids(right)}{middle}{_ids(wrong)}{after}",
                          self.correct, _NO_MAPPING, _NO_MAPPING, self.feedback, None,
                          None))  # fmt: skip


_RATINGS = frozenset({1, 2, 3, 4})
_INT = frozenset({int})


class _SituationalJudgement(_Marker):
    def __init__(self, item: SituationalJudgementItem, competency: str | None) -> None:
        super().__init__(item, competency)
        self.ratings = MappingProxyType({o.id: o.rating for o in item.options})
        self.rationales = MappingProxyType({o.id: o.rationale for o in item.options})
        self.best = best = next(o.id for o in item.options if o.rating == 4)
        pick = item.mode in ("pick-best", "both")
        self.rate = rate = item.mode in ("rate-each", "both")
        # What choosing each option as best earns, and the sentences that say so.
        picked: dict[str | None, tuple[float, str]] = {
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
            picked[o] = (credit, line)
        # For each option in order, its distance from the expert rating and how it reads, by
        # the rating a trainee gives (None: not rated, counted as 3 apart).
        self.options = tuple(self.ratings)
        self.known = frozenset(self.options)
        self.gaps: tuple[dict[int | None, int], ...] = tuple(
            {given: 3 if given is None else abs(given - rating) for given in (None, 1, 2, 3, 4)}
            for rating in self.ratings.values()
        )
        self.cells: tuple[dict[int | None, str], ...] = tuple(
            {
                given: f"{o} you {'-' if given is None else given} / experts {rating}"
                for given in (None, 1, 2, 3, 4)
            }
            for o, rating in self.ratings.items()
        )

        def outcome(choice: str | None, total: int | None) -> tuple[float, str]:
            """Points and explanation for a best choice and the ratings' total gap (None: no
            ratings); \0 stands for the ratings, \1 for where unrated options are named."""
            parts: list[float] = []
            lines: list[str] = []
            if pick:
                credit, line = picked[choice]
                parts.append(credit)
                lines.append(line)
            if rate:
                if total is None:
                    parts.append(0.0)
                    lines.append("No options rated.")
                else:
                    closeness, summary = _closeness(total, len(self.options))
                    parts.append(closeness)
                    lines.append(f"Your ratings (\0) {summary}\1")
            points = sum(parts) / len(parts)
            if len(parts) == 2:
                lines.append(f"Mean of the two parts: {_num(points)} of 1 point.")
            else:
                lines.append(f"{_num(points)} of 1 point.")
            return points, " ".join(lines)

        # Every outcome short of the ratings themselves, by best choice: without ratings
        # (or when none are asked for), and for each total gap with the text before, between
        # and after the ratings and the unrated options.
        self.unrated: dict[str | None, tuple[float, str]] = {c: outcome(c, None) for c in picked}
        self.rated: dict[tuple[str | None, int], tuple[float, str, str, str]] = {}
        for choice in picked if rate else ():
            for total in range(3 * len(self.options) + 1):
                points, text = outcome(choice, total)
                head, rest = text.split("\0")
                summary, tail = rest.split("\1")
                self.rated[choice, total] = (points, head, summary, tail)

    def mark(self, raw: Mapping[str, object] | None) -> ItemScore:
        if type(raw) is dict and len(raw) == 2:
            best = raw.get("best")
            ratings = raw.get("ratings")
            if (
                type(best) is str
                and best in self.known
                and type(ratings) is dict
                and ratings
                and ratings.keys() <= self.known
                # Whole numbers 1-4 (not True or 2.0, which equal 1 and 2).
                and _INT.issuperset(map(type, ratings.values()))
                and _RATINGS.issuperset(ratings.values())
            ):
                return self._rated(best, ratings, True)
        return super().mark(raw)

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, SituationalJudgementAnswer):
            return self._rated(answer.best, answer.ratings, True)
        return self._rated(None, None, False)

    def _rated(
        self, best: str | None, ratings: Mapping[str, int] | None, answered: bool
    ) -> ItemScore:
        if not (self.rate and ratings):
            points, text = self.unrated[best]
        else:
            values = list(map(ratings.get, self.options))
            try:
                total = sum(map(dict.__getitem__, self.gaps, values))
            except KeyError:  # a rating parse_answer refuses
                raise AnswerError(self.item_id, "ratings go from 1 to 4") from None
            points, head, summary, tail = self.rated[best, total]
            cells = ", ".join(map(dict.__getitem__, self.cells, values))
            if None in values:
                unrated = _ids(o for o, r in zip(self.options, values, strict=True) if r is None)
                summary += f" Unrated options ({unrated}) count as 3 apart."
            text = f"{head}{cells}{summary}{tail}"
        return _new_score(ItemScore, (self.item_id, self.item_type, self.competency, points, 1.0,
                          answered, text, (self.best,), self.ratings, self.rationales,
                          self.feedback, None, None))  # fmt: skip


class _FreeText(_Marker):
    item: FreeTextItem

    def __init__(self, item: FreeTextItem, competency: str | None) -> None:
        super().__init__(item, competency)
        self.model_answer = item.model_answer
        self.min_words = item.min_words
        self.too_short = f"Try writing a little more: at least {item.min_words} words."
        # The suggestion for the skills of `look_for` not found, for every set of them found.
        wanted = frozenset(item.look_for)
        self.also_try: dict[frozenset[str], str | None] = {}
        for found in _subsets(wanted):
            missing = [s for s in item.look_for if s not in found]
            self.also_try[found] = (
                f"For this statement, also try: {', '.join(s.replace('-', ' ') for s in missing)}."
                if missing
                else None
            )
        self.wanted = wanted

    def mark(self, raw: Mapping[str, object] | None) -> ItemScore:
        if type(raw) is dict and len(raw) == 1:
            text = raw.get("text")
            if type(text) is str and len(text) <= MAX_FREE_TEXT_CHARS:
                text = text.strip()
                if text:
                    return self._written(text)
        return super().mark(raw)

    def score(self, answer: Answer | None) -> ItemScore:
        if isinstance(answer, FreeTextAnswer):
            return self._written(answer.text)
        return _new_score(ItemScore, (
            self.item_id, self.item_type, self.competency, 0.0, 0.0, answer is not None,
            "Not answered. This response is for practice and feedback only; it is not scored.",
            (), _NO_MAPPING, _NO_MAPPING, self.feedback, self.model_answer, None,
        ))  # fmt: skip

    def _written(self, text: str) -> ItemScore:
        listening = analyse_listening(text)
        lines = [listening.message]
        min_words = self.min_words
        # At most min_words splits: enough to tell whether there are fewer words than that.
        if min_words and len(text.split(None, min_words)) < min_words:
            lines.append(self.too_short)
        also_try = self.also_try[listening.labels & self.wanted]
        if also_try is not None:
            lines.append(also_try)
        lines.append("This response is for practice and feedback only; it is not scored.")
        return _new_score(ItemScore, (
            self.item_id, self.item_type, self.competency, 0.0, 0.0, True, " ".join(lines),
            (), _NO_MAPPING, _NO_MAPPING, self.feedback, self.model_answer, listening,
        ))  # fmt: skip


def _subsets(items: frozenset[str]) -> list[frozenset[str]]:
    subsets = [frozenset[str]()]
    for item in items:
        subsets += [s | {item} for s in subsets]
    return subsets


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
