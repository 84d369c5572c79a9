"""Our weighted kappa against an independent implementation: scikit-learn's cohen_kappa_score."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sklearn.metrics import cohen_kappa_score

from app.scoring import weighted_kappa
from tests.scoring.test_agreement import ANXIETY, SAS_SKIN_CONDITION, expand

SKLEARN_WEIGHTS = {"none": None, "linear": "linear", "quadratic": "quadratic"}


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_published_data_sets_agree_with_scikit_learn(weights: Any) -> None:
    a, b = expand(SAS_SKIN_CONDITION)
    assert weighted_kappa(a, b, weights=weights) == pytest.approx(
        cohen_kappa_score(a, b, weights=SKLEARN_WEIGHTS[weights]), abs=1e-12
    )
    _, rater_2, rater_3 = ANXIETY
    assert weighted_kappa(rater_2, rater_3, (1, 2, 3, 4, 6), weights) == pytest.approx(
        cohen_kappa_score(rater_2, rater_3, weights=SKLEARN_WEIGHTS[weights]), abs=1e-12
    )


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
@pytest.mark.parametrize("seed", range(20))
def test_rubric_ratings_agree_with_scikit_learn(weights: Any, seed: int) -> None:
    """Two trainers' 1-4 ratings of a rubric, every level used by someone (scikit-learn
    weights the levels that occur, we weight the rubric's four)."""
    rng = random.Random(seed)
    n = rng.randint(4, 30)
    a = [1, 2, 3, 4] + [rng.randint(1, 4) for _ in range(n)]
    b = [rng.randint(1, 4) for _ in range(n + 4)]
    assert weighted_kappa(a, b, weights=weights) == pytest.approx(
        cohen_kappa_score(a, b, weights=SKLEARN_WEIGHTS[weights]), abs=1e-12
    )
