"""Properties that hold for any answer: scores stay in range, plans are permutations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring import analyse_listening, draw_attempt, parse_answer, score_item
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
