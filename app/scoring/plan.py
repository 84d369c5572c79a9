"""Which items an attempt shows, in which order, and what of them a browser may see."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from app.scoring.answers import QuestionItem, option_ids
from app.scoring.definitions import (
    FreeTextItem,
    MultipleResponseItem,
    QuestionAssessment,
    SingleChoiceItem,
    SituationalJudgementItem,
    TrueFalseItem,
)

PLAN_VERSION = 1


class PlanError(ValueError):
    """A stored plan that does not fit the assessment it is used with."""


_new_entry = tuple.__new__


class PlanEntry(NamedTuple):
    """One item of an attempt and the order its options are shown in (empty if it has none)."""

    item_id: str
    option_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttemptPlan:
    """The drawn, ordered items of one attempt; stored so the attempt can be reviewed later."""

    assessment_id: str
    seed: int
    entries: tuple[PlanEntry, ...]

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(e.item_id for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "assessment_id": self.assessment_id,
            "seed": self.seed,
            "items": [{"id": e.item_id, "options": list(e.option_order)} for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttemptPlan:
        """A stored plan, read back. Only its shape is checked here: `planned_items` checks
        every item and option id against the assessment, so they are not converted."""
        try:
            if data["version"] != PLAN_VERSION:
                raise PlanError(f"unsupported attempt plan version {data['version']!r}")
            # tuple.__new__ skips PlanEntry's Python-level __new__: a plan has dozens of entries
            # and is read on every submission.
            entries = tuple(
                [_new_entry(PlanEntry, (e["id"], tuple(e["options"]))) for e in data["items"]]
            )
            return cls(str(data["assessment_id"]), int(data["seed"]), entries)
        except PlanError:
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise PlanError(f"not an attempt plan: {error!r}") from error

    def entry(self, item_id: str) -> PlanEntry:
        for e in self.entries:
            if e.item_id == item_id:
                return e
        raise PlanError(f"item {item_id} is not part of this attempt")


def _order_key(*parts: object) -> bytes:
    # A hash per element, not random.shuffle: the order is the same on every Python
    # version, and adding an item to a bank does not reorder the others.
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def _option_key(assessment_id: str, seed: int, item_id: str) -> Callable[[str], bytes]:
    return lambda option_id: _order_key(assessment_id, seed, item_id, option_id)


def draw_attempt(assessment: QuestionAssessment, seed: int) -> AttemptPlan:
    """Draw `draw` items (default all) and order items and options, deterministically from `seed`."""
    bank = list(assessment.items)
    by_key = sorted(bank, key=lambda item: _order_key(assessment.id, seed, item.id))
    chosen = by_key[: assessment.draw or len(bank)]
    if not assessment.shuffle:
        drawn = {item.id for item in chosen}
        chosen = [item for item in bank if item.id in drawn]
    entries = []
    for item in chosen:
        order = list(option_ids(item))
        if assessment.shuffle:
            order.sort(key=_option_key(assessment.id, seed, item.id))
        entries.append(PlanEntry(item.id, tuple(order)))
    return AttemptPlan(assessment.id, seed, tuple(entries))


def planned_items(
    assessment: QuestionAssessment, plan: AttemptPlan
) -> list[tuple[QuestionItem, PlanEntry]]:
    """The plan's items with their definitions, checking the plan still fits the assessment."""
    if plan.assessment_id != assessment.id:
        raise PlanError(f"this attempt plan is for {plan.assessment_id}, not {assessment.id}")
    items = _index(assessment)
    result = []
    for entry in plan.entries:
        item_id, order = entry
        try:
            found = items.get(item_id)
            fits = found is not None and len(order) == len(found[1]) and found[1].issuperset(order)
        except TypeError:  # an unhashable id: a damaged stored plan
            message = f"not an attempt plan: an entry with ids that are not text: {entry!r}"
            raise PlanError(message) from None
        if found is None:
            raise PlanError(f"item {item_id} of this attempt is no longer in the bank")
        if not fits:
            raise PlanError(f"the options of item {item_id} changed since the attempt began")
        result.append((found[0], entry))
    return result


_INDEXES: dict[int, tuple[QuestionAssessment, dict[str, tuple[QuestionItem, frozenset[str]]]]] = {}


def _index(
    assessment: QuestionAssessment,
) -> dict[str, tuple[QuestionItem, frozenset[str]]]:
    # Built once per (immutable) definition: scoring looks items up thousands of times.
    cached = _INDEXES.get(id(assessment))
    if cached is not None and cached[0] is assessment:
        return cached[1]
    index = {item.id: (item, frozenset(option_ids(item))) for item in assessment.items}
    if len(_INDEXES) >= 10_000:
        _INDEXES.clear()
    _INDEXES[id(assessment)] = (assessment, index)
    return index


def public_item(item: QuestionItem, plan_entry: PlanEntry) -> dict[str, Any]:
    """What a browser may see before submission: never keys, ratings, rationales or feedback."""
    if plan_entry.item_id != item.id:
        raise PlanError(f"plan entry {plan_entry.item_id} does not belong to item {item.id}")
    public: dict[str, Any] = {"id": item.id, "type": item.type}
    if isinstance(item, SingleChoiceItem | MultipleResponseItem):
        public["prompt"] = item.prompt
    elif isinstance(item, TrueFalseItem):
        public["statement"] = item.statement
    elif isinstance(item, SituationalJudgementItem):
        public["scenario"] = item.scenario
        public["question"] = item.question
        public["mode"] = item.mode
    elif isinstance(item, FreeTextItem):
        public["statement"] = item.statement
        public["prompt"] = item.prompt
        public["min_words"] = item.min_words
    if isinstance(item, SingleChoiceItem | MultipleResponseItem | SituationalJudgementItem):
        texts = {o.id: o.text for o in item.options}
        if sorted(plan_entry.option_order) != sorted(texts):
            raise PlanError(f"the options of item {item.id} changed since the attempt began")
        public["options"] = [{"id": o, "text": texts[o]} for o in plan_entry.option_order]
    return public
