"""Inter-rater agreement checked against published worked examples."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import AgreementError, icc, kappa_from_table, rating_agreement, weighted_kappa

# Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
# reliability. Psychological Bulletin, 86(2), 420-428. Table 2: four judges rate six targets.
# For these data the paper gives ICC(1,1) = .17, ICC(2,1) = .29 and ICC(3,1) = .71 (the example
# in the documentation of R's psych::ICC uses the same matrix and prints the same values).
SHROUT_FLEISS_TABLE_2 = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]

# SAS/STAT User's Guide, "The FREQ Procedure", Getting Started: Agreement Study ("Skin
# Condition Data"): two dermatologists rate 88 patients as terrible, poor, marginal or clear
# (rows: dermatologist 1, columns: dermatologist 2). PROC FREQ with the AGREE option reports
# simple kappa 0.3449 and weighted kappa 0.5082; SAS's default weights are Cicchetti-Allison,
# that is linear agreement weights 1 - |i - j| / (k - 1).
SAS_SKIN_CONDITION = [
    [10, 4, 1, 0],
    [5, 10, 12, 2],
    [2, 4, 12, 5],
    [0, 2, 6, 13],
]


@pytest.mark.parametrize(("model", "published"), [("1,1", 0.17), ("2,1", 0.29), ("3,1", 0.71)])
def test_icc_matches_shrout_and_fleiss_1979(model: Any, published: float) -> None:
    assert round(icc(SHROUT_FLEISS_TABLE_2, model), 2) == published


def expand(table: list[list[int]]) -> tuple[list[int], list[int]]:
    a: list[int] = []
    b: list[int] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i + 1] * count
            b += [j + 1] * count
    return a, b


@pytest.mark.parametrize(("weights", "published"), [("none", 0.3449), ("linear", 0.5082)])
def test_kappa_matches_the_sas_proc_freq_agreement_example(weights: Any, published: float) -> None:
    a, b = expand(SAS_SKIN_CONDITION)
    assert len(a) == 88
    assert round(weighted_kappa(a, b, weights=weights), 4) == published
    assert round(kappa_from_table(SAS_SKIN_CONDITION, weights), 4) == published


def test_quadratic_kappa_equals_its_product_moment_form() -> None:
    """Quadratic-weighted kappa = 2·cov(a, b) / (var a + var b + (mean a − mean b)²), with
    population moments (Cohen 1968; Fleiss & Cohen 1973). Checked on the SAS data."""
    a, b = expand(SAS_SKIN_CONDITION)
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    va = sum((x - ma) ** 2 for x in a) / n
    vb = sum((x - mb) ** 2 for x in b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True)) / n
    assert weighted_kappa(a, b) == pytest.approx(2 * cov / (va + vb + (ma - mb) ** 2))


@pytest.mark.parametrize("weights", ["quadratic", "linear", "none"])
def test_perfect_agreement_is_one(weights: Any) -> None:
    assert weighted_kappa([1, 2, 3, 4, 2], [1, 2, 3, 4, 2], weights=weights) == pytest.approx(1.0)


def test_kappa_is_symmetric_and_penalises_far_disagreement_more() -> None:
    a = [1, 2, 3, 4, 4, 3]
    near = [2, 2, 3, 4, 3, 3]
    far = [4, 2, 3, 4, 1, 3]
    assert weighted_kappa(a, near) == pytest.approx(weighted_kappa(near, a))
    assert weighted_kappa(a, near) > weighted_kappa(a, far)


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        ([1, 2], [1], {}, "different numbers"),
        ([], [], {}, "no ratings"),
        ([1, 5], [1, 2], {}, "rating 5 is not one of the categories"),
        ([3, 3, 3], [3, 3, 3], {}, "undefined"),
        ([1, 2], [1, 2], {"weights": "cubic"}, "unknown weights"),
        ([1, 2], [1, 2], {"categories": (1,)}, "at least two"),
    ],
)
def test_kappa_degenerate_input(a: list[int], b: list[int], kwargs: Any, message: str) -> None:
    with pytest.raises(AgreementError, match=message):
        weighted_kappa(a, b, **kwargs)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2]], "at least two rated targets"),
        ([[1], [2]], "at least two raters"),
        ([[1, 2], [3]], "every rater must rate every target"),
        ([[1, None], [3, 4]], "missing or non-numeric"),
        ([[3, 3], [3, 3]], "undefined"),
    ],
)
def test_icc_degenerate_input(matrix: Any, message: str) -> None:
    with pytest.raises(AgreementError, match=message):
        icc(matrix)


def test_two_raters_report_weighted_kappa_and_flag_every_1() -> None:
    report = rating_agreement(
        {
            "trainer-a": {
                "open-questions": 3,
                "reflections": 4,
                "confidentiality": 1,
                "summary": 2,
            },
            "trainer-b": {
                "open-questions": 3,
                "reflections": 3,
                "confidentiality": 2,
                "summary": 2,
            },
        }
    )
    assert report.statistic == "weighted-kappa"
    assert report.value == pytest.approx(weighted_kappa([3, 4, 1, 2], [3, 3, 2, 2]))
    by_item = {i.item_id: i for i in report.items}
    assert by_item["open-questions"].exact and by_item["reflections"].adjacent
    assert not by_item["reflections"].exact
    assert report.exact_agreement == 0.5 and report.adjacent_agreement == 1.0
    assert [(f.item_id, f.rater) for f in report.harmful_flags] == [
        ("confidentiality", "trainer-a")
    ]
    assert by_item["confidentiality"].harmful
    assert "rough" in report.note


def test_three_raters_report_icc() -> None:
    ratings = {
        f"r{j}": {f"item-{i}": SHROUT_FLEISS_TABLE_2[i][j] % 4 + 1 for i in range(6)}
        for j in range(3)
    }
    report = rating_agreement(ratings)
    assert report.statistic == "icc"
    matrix = [[ratings[r][f"item-{i}"] for r in ratings] for i in range(6)]
    assert report.value == pytest.approx(icc(matrix, "2,1"))


def test_identical_constant_ratings_give_no_statistic_but_still_a_report() -> None:
    report = rating_agreement({"a": {"x": 3, "y": 3}, "b": {"x": 3, "y": 3}})
    assert report.value is None
    assert report.exact_agreement == 1.0
    assert "undefined" in report.note


def test_items_not_rated_by_everyone_are_listed_but_still_flagged() -> None:
    report = rating_agreement({"a": {"x": 3, "y": 1}, "b": {"x": 2}})
    assert report.incomplete == ("y",)
    assert [i.item_id for i in report.items] == ["x"]
    assert [(f.item_id, f.rater) for f in report.harmful_flags] == [("y", "a")]


@pytest.mark.parametrize(
    "ratings",
    [{"a": {"x": 3}}, {"a": {"x": 5}, "b": {"x": 3}}, {"a": {"x": 0}, "b": {"x": 3}}],
)
def test_rating_agreement_rejects_bad_input(ratings: Any) -> None:
    with pytest.raises(AgreementError):
        rating_agreement(ratings)
