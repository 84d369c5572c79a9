"""Properties that hold for any answer: scores stay in range, plans are permutations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring import AnswerError, analyse_listening, draw_attempt, parse_answer, score_item
from app.scoring.marking import _marker
from tests.scoring import factories as f

MULTIPLE = f.assessment([f.multiple("m")]).items[0]
SJT = f.assessment([f.situational("j", mode="both")]).items[0]
BANK = f.assessment(f.bank(15), draw=6)

options = st.lists(st.sampled_from("abcde"), unique=True, max_size=5)
ratings = st.dictionaries(st.sampled_from("abcd"), st.integers(1, 4), max_size=4)


@given(options)
def test_multiple_response_score_is_between_0_and_1(chosen: list[str]) -> None:
    score = score_item(MULTIPLE, parse_answer(MULTIPLE, {"options": chosen}))
    assert 0.0 <= score.points <= 1.0


@given(st.one_of(st.none(), st.sampled_from("abcd")), ratings)
def test_sjt_score_is_between_0_and_1(best: str | None, given_ratings: dict[str, int]) -> None:
    score = score_item(SJT, parse_answer(SJT, {"best": best, "ratings": given_ratings}))
    assert 0.0 <= score.points <= 1.0


@given(st.integers(min_value=0, max_value=2**63))
def test_every_plan_is_a_deterministic_draw_with_permuted_options(seed: int) -> None:
    plan = draw_attempt(BANK, seed)
    assert plan == draw_attempt(BANK, seed)
    assert len(set(plan.item_ids)) == 6
    items = {i.id: i for i in BANK.items}
    for entry in plan.entries:
        expected = sorted(o.id for o in getattr(items[entry.item_id], "options", []))
        assert sorted(entry.option_order) == expected


@settings(max_examples=200)
@given(st.text(max_size=400))
def test_analyzer_accepts_any_text_and_quotes_it(text: str) -> None:
    feedback = analyse_listening(text)
    assert feedback.message
    assert feedback.labels <= {
        "open-question", "reflection", "affirmation", "summary",
        "advising", "minimising", "judging", "interrogating", "self-focus",
    }  # fmt: skip


# Each marker scores the usual well-formed answer itself and passes anything else through
# parse_answer; both ways must give the same score, or the same error.
ITEMS = f.assessment(
    [
        f.single("s"),
        f.multiple("m"),
        f.true_false("t", key=True),
        f.situational("both", mode="both"),
        f.situational("pick", mode="pick-best"),
        f.situational("rate", mode="rate-each"),
        f.free_text("x"),
    ]
).items
ids = st.sampled_from(["a", "b", "c", "d", "e", "z", ""])
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1, 6),
    st.floats(0, 5),
    st.sampled_from(["true", "false", " True ", "3", "  ", "It sounds hard. What happened?"]),
    ids,
    st.lists(ids, max_size=6),
    st.tuples(ids, ids),
    st.dictionaries(ids, st.one_of(st.none(), st.integers(0, 5), st.booleans(), st.just("2"))),
)
raw_answers = st.one_of(
    st.none(),
    st.lists(ids, max_size=2),
    st.dictionaries(
        st.sampled_from(["option", "options", "value", "best", "ratings", "text"]),
        values,
        max_size=3,
    ),
    st.fixed_dictionaries({"option": ids}),
    st.fixed_dictionaries({"options": st.lists(ids, min_size=1, max_size=5)}),
    st.fixed_dictionaries({"value": st.sampled_from([True, False, "true", "false", 1, 0])}),
    st.fixed_dictionaries(
        {
            "best": ids,
            "ratings": st.dictionaries(
                st.sampled_from("abcd"), st.one_of(st.integers(1, 4), st.just(True))
            ),
        }
    ),
    st.fixed_dictionaries({"text": st.text(max_size=80)}),
)


@settings(max_examples=1000)
@given(st.sampled_from(ITEMS), raw_answers)
def test_marking_in_one_step_equals_parsing_then_scoring(item: Any, raw: Any) -> None:
    marker = _marker(item, "active-listening")
    try:
        expected = score_item(item, parse_answer(item, raw), "active-listening")
    except AnswerError as error:
        with pytest.raises(AnswerError) as refused:
            marker.mark(raw)
        assert str(refused.value) == str(error)
    else:
        assert marker.mark(raw) == expected
