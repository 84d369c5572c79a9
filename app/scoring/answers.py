"""A trainee's answer to one item: parsed from raw JSON or form data and validated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.scoring.definitions import (
    FreeTextItem,
    MultipleResponseItem,
    SingleChoiceItem,
    SituationalJudgementItem,
    TrueFalseItem,
)

QuestionItem = (
    SingleChoiceItem
    | MultipleResponseItem
    | TrueFalseItem
    | SituationalJudgementItem
    | FreeTextItem
)

MAX_FREE_TEXT_CHARS = 5000


class AnswerError(ValueError):
    """An answer that cannot be accepted; the message says what to fix."""

    def __init__(self, item_id: str, message: str) -> None:
        super().__init__(f"item {item_id}: {message}")
        self.item_id = item_id
        self.reason = message


# Answers are read-only by convention; not frozen because a frozen dataclass costs several
# times as much to build, and every answered item of every submission builds one.
@dataclass(slots=True)
class SingleChoiceAnswer:
    option: str


@dataclass(slots=True)
class MultipleResponseAnswer:
    options: frozenset[str]


@dataclass(slots=True)
class TrueFalseAnswer:
    value: bool


@dataclass(slots=True)
class SituationalJudgementAnswer:
    best: str | None
    ratings: Mapping[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class FreeTextAnswer:
    text: str


Answer = (
    SingleChoiceAnswer
    | MultipleResponseAnswer
    | TrueFalseAnswer
    | SituationalJudgementAnswer
    | FreeTextAnswer
)

_FIELDS: dict[str, frozenset[str]] = {
    "single-choice": frozenset({"option"}),
    "multiple-response": frozenset({"options"}),
    "true-false": frozenset({"value"}),
    "situational-judgement": frozenset({"best", "ratings"}),
    "free-text": frozenset({"text"}),
}


# Option ids per item definition, built once: definitions are immutable and scored often.
_OPTION_IDS: dict[int, tuple[QuestionItem, tuple[str, ...], frozenset[str]]] = {}


def option_ids(item: QuestionItem) -> tuple[str, ...]:
    """The item's option ids in file order (empty for true/false and free text)."""
    return _option_ids(item)[1]


def _option_ids(item: QuestionItem) -> tuple[QuestionItem, tuple[str, ...], frozenset[str]]:
    cached = _OPTION_IDS.get(id(item))
    if cached is not None and cached[0] is item:
        return cached
    if isinstance(item, SingleChoiceItem | MultipleResponseItem | SituationalJudgementItem):
        ids = tuple(o.id for o in item.options)
    else:
        ids = ()
    if len(_OPTION_IDS) >= 50_000:
        _OPTION_IDS.clear()
    cached = _OPTION_IDS[id(item)] = (item, ids, frozenset(ids))
    return cached


def parse_answer(item: QuestionItem, raw: Mapping[str, object] | None) -> Answer | None:
    """Validate a raw answer for `item`; None means unanswered (scores 0, never an error)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) and not isinstance(raw, Mapping):
        raise AnswerError(item.id, f"an answer must be an object, not {_kind(raw)}")
    if not _FIELDS[item.type].issuperset(raw):
        unexpected = sorted(str(k) for k in raw if k not in _FIELDS[item.type])
        allowed = ", ".join(sorted(_FIELDS[item.type]))
        raise AnswerError(
            item.id,
            f"unexpected field(s) {', '.join(unexpected)} for a {item.type} answer "
            f"(expected: {allowed})",
        )
    return _PARSERS[item.type](item, raw)


def _single(item: SingleChoiceItem, raw: Mapping[str, object]) -> Answer | None:
    option = raw.get("option")
    if option is None or option == "":
        return None
    return SingleChoiceAnswer(_option_id(item.id, option, option_ids(item)))


def _multiple(item: MultipleResponseItem, raw: Mapping[str, object]) -> Answer | None:
    options = raw.get("options")
    if options is None:
        return None
    if isinstance(options, str | bytes) or not isinstance(options, list | tuple):
        raise AnswerError(item.id, f"options must be a list of option ids, not {_kind(options)}")
    if not options:
        return None
    _, known, known_set = _option_ids(item)
    try:
        distinct = frozenset(options)
    except TypeError:  # something unhashable: the checks below say what
        distinct = frozenset()
    if len(distinct) == len(options) and distinct <= known_set:
        return MultipleResponseAnswer(distinct)
    chosen = [_option_id(item.id, o, known) for o in options]
    duplicates = sorted({o for o in chosen if chosen.count(o) > 1})
    if duplicates:
        raise AnswerError(item.id, f"option(s) chosen more than once: {', '.join(duplicates)}")
    return MultipleResponseAnswer(frozenset(chosen))


def _true_false(item: TrueFalseItem, raw: Mapping[str, object]) -> Answer | None:
    value = raw.get("value")
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return TrueFalseAnswer(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return TrueFalseAnswer(value.strip().lower() == "true")
    raise AnswerError(item.id, f"value must be true or false, not {value!r}")


def _situational(item: SituationalJudgementItem, raw: Mapping[str, object]) -> Answer | None:
    _, known, known_set = _option_ids(item)
    best_raw = raw.get("best")
    best = None if best_raw in (None, "") else _option_id(item.id, best_raw, known)
    ratings_raw = raw.get("ratings") or {}
    if not isinstance(ratings_raw, Mapping):
        raise AnswerError(item.id, f"ratings must map option ids to 1-4, not {_kind(ratings_raw)}")
    ratings: dict[str, int] = {}
    for option, rating in ratings_raw.items():
        if option in known_set and type(rating) is int and 1 <= rating <= 4:
            ratings[option] = rating
            continue
        option_id = _option_id(item.id, option, known)
        if rating is None or rating == "":
            continue
        ratings[option_id] = _rating(item.id, option_id, rating)
    if best is None and not ratings:
        return None
    return SituationalJudgementAnswer(best=best, ratings=ratings)


def _free_text(item: FreeTextItem, raw: Mapping[str, object]) -> Answer | None:
    text = raw.get("text")
    if text is None:
        return None
    if not isinstance(text, str):
        raise AnswerError(item.id, f"text must be a string, not {_kind(text)}")
    if len(text) > MAX_FREE_TEXT_CHARS:
        raise AnswerError(
            item.id, f"text is {len(text)} characters; the limit is {MAX_FREE_TEXT_CHARS}"
        )
    if not text.strip():
        return None
    return FreeTextAnswer(text.strip())


_PARSERS: dict[str, Callable[[Any, Mapping[str, object]], Answer | None]] = {
    "single-choice": _single,
    "multiple-response": _multiple,
    "true-false": _true_false,
    "situational-judgement": _situational,
    "free-text": _free_text,
}


def _option_id(item_id: str, value: object, known: tuple[str, ...]) -> str:
    if type(value) is str and value in known:
        return value
    if not isinstance(value, str):
        raise AnswerError(item_id, f"an option id must be a string, not {_kind(value)}")
    if value not in known:
        raise AnswerError(
            item_id, f"unknown option id {value!r} (this item has: {', '.join(known)})"
        )
    return value


def _rating(item_id: str, option: str, value: object) -> int:
    if type(value) is int and 1 <= value <= 4:
        return value
    if isinstance(value, bool):
        raise AnswerError(item_id, f"rating for option {option} must be 1-4, not {value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise AnswerError(
            item_id, f"rating for option {option} must be a whole number 1-4, not {value!r}"
        )
    if not 1 <= value <= 4:
        raise AnswerError(item_id, f"rating for option {option} is {value}; ratings go from 1 to 4")
    return value


def _kind(value: object) -> str:
    names = {str: "text", bool: "true/false", int: "a number", float: "a number"}
    names |= {list: "a list", tuple: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)
